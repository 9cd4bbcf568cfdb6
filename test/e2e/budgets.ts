// The production build's byte budgets, which e2e/budgets.spec.ts asserts. A fork edits them here, on
// purpose, when its pages grow.
export const budgets = {
  // The HTML of /ssr/ (3,467 bytes measured on 2026-11-23).
  ssrHtmlBytes: 20_000,
  // The JavaScript a browser downloads for /ssr/, gzipped (67,901 bytes in 4 files measured on
  // 2026-11-23, plus 10%).
  ssrJavaScriptGzippedBytes: 74_700,
}
