// The production build's byte budgets, which e2e/budgets.spec.ts asserts. A fork edits them here, on
// purpose, when its pages grow.
export const budgets = {
  // The HTML of /ssr/ (3,467 bytes measured on 2026-11-23).
  ssrHtmlBytes: 20_000,
  // The JavaScript a browser downloads for /ssr/, gzipped (91,587 bytes in 4 files measured on
  // 2026-12-05, plus 10%). React 19's react-dom is most of it: the framework chunk is 69.0 KB, where
  // React 18's was 45.4 KB (docs/benchmarks.md, "React 18 against React 19").
  ssrJavaScriptGzippedBytes: 100_700,
}
