import { defineConfig, type Project } from "@playwright/test"
import { CHROMIUM_FLAGS, findChromium } from "./chromium"
import type { SiteOptions } from "./fixtures"
import { usesNodeAdapter } from "./gatsby"

// The site's own tests of `npm start` (the Node server, its cache, deploying it), and every production
// test again against it, while the site depends on gatsby-adapter-node.
const NODE_SERVER_SPECS = ["npm-start.spec.ts", "response-cache.spec.ts", "deploy.spec.ts"]
const nodeServer: Project<SiteOptions>[] = usesNodeAdapter()
  ? [
      {
        name: "node",
        use: { mode: "node" },
        dependencies: ["serve"],
        testMatch: [
          "ssr.spec.ts",
          "breeds.spec.ts",
          "for-you.spec.ts",
          "budgets.spec.ts",
          ...NODE_SERVER_SPECS,
        ],
      },
    ]
  : []

export default defineConfig<SiteOptions>({
  testDir: ".",
  // gatsby develop deletes the engines that gatsby serve runs, so the modes take turns.
  workers: 1,
  timeout: 30_000,
  reporter: [["list"], ["html", { open: "never", outputFolder: "../../playwright-report" }]],
  outputDir: "../../test-results",
  use: {
    // install-chromium.ts, which `npm run test:e2e` runs first, made sure there is one.
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_FLAGS },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  // In the order a person goes: gatsby develop, then gatsby build (no clean) and gatsby serve, the same
  // build on the Node server (`npm start`), a build for Netlify, then gatsby develop again. Each step
  // depends on the one before, so that the order is kept.
  projects: [
    {
      name: "develop",
      use: { mode: "develop" },
      // Byte budgets and the Netlify function are about the production build.
      testIgnore: [
        "budgets.spec.ts",
        "netlify-function.spec.ts",
        "gatsby-commands.spec.ts",
        ...NODE_SERVER_SPECS,
      ],
    },
    {
      name: "serve",
      use: { mode: "serve" },
      dependencies: ["develop"],
      testIgnore: ["netlify-function.spec.ts", ...NODE_SERVER_SPECS],
      grepInvert: /@after-build/,
    },
    ...nodeServer,
    {
      name: "netlify",
      use: { mode: "serve", netlify: true },
      dependencies: [nodeServer.length ? "node" : "serve"],
      testMatch: "netlify-function.spec.ts",
    },
    {
      name: "develop after build",
      use: { mode: "develop" },
      dependencies: ["netlify"],
      testMatch: "gatsby-commands.spec.ts",
      grep: /@after-build/,
    },
  ],
})
