import js from "@eslint/js"
import jsxA11y from "eslint-plugin-jsx-a11y"
import reactHooks from "eslint-plugin-react-hooks"
import globals from "globals"
import tseslint from "typescript-eslint"

export default tseslint.config(
  {
    ignores: [
      ...[".cache/", "public/", ".netlify/", "node_modules/", "**/test-results/", "**/playwright-report/"],
      // The lab's builds, and the guide's page kept as the guide wrote it (an unused `error` and all).
      ...["tools/lab/.builds/", "tools/lab/guide-page.js"],
      // The Node adapter's fixture sites as gatsby build leaves them, and their copies.
      ...["packages/*/test/.apps/*/.cache/", "packages/*/test/.apps/*/public/"],
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  reactHooks.configs.flat.recommended,
  jsxA11y.flatConfigs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      // A leading underscore marks a parameter that a framework passes and the code does not need.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // CommonJS config and tools/sharp, which Node and Gatsby require(), and the lab's script
    // that loads the Node adapter's modules as the server does.
    files: ["**/*.js", "**/*.cjs"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Playwright fixtures call a function named `use`, which is not React's hook.
    files: ["__tests__/e2e/**", "packages/*/test/**"],
    rules: { "react-hooks/rules-of-hooks": "off" },
  },
)
