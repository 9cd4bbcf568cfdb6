import { existsSync } from "node:fs"
import path from "node:path"
import { defineConfig, type Project } from "@playwright/test"
import { CHROMIUM_FLAGS, findChromium } from "./chromium"
import type { SiteOptions } from "./fixtures"

// The optional Node server: every production test against it, and its own, when its folder is there.
const nodeServer: Project<SiteOptions>[] = existsSync(path.join(__dirname, "../node-adapter"))
  ? [
      {
        name: "node",
        use: { mode: "node" },
        dependencies: ["serve"],
        testDir: "..",
        testMatch: [
          "e2e/ssr.spec.ts",
          "e2e/breeds.spec.ts",
          "e2e/for-you.spec.ts",
          "e2e/budgets.spec.ts",
          "node-adapter/test/start.spec.ts",
          "node-adapter/test/response-cache.spec.ts",
          "node-adapter/test/deploy.spec.ts",
        ],
        // The lab's copies of the site have a node-adapter/ too.
        testIgnore: "**/lab/**",
      },
    ]
  : []

export default defineConfig<SiteOptions>({
  testDir: ".",
  // gatsby develop deletes the engines that gatsby serve runs, so the modes take turns.
  workers: 1,
  timeout: 30_000,
  reporter: [["list"], ["html", { open: "never", outputFolder: "../playwright-report" }]],
  outputDir: "../test-results",
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
      testIgnore: ["budgets.spec.ts", "netlify-function.spec.ts", "gatsby-commands.spec.ts"],
    },
    {
      name: "serve",
      use: { mode: "serve" },
      dependencies: ["develop"],
      testIgnore: ["netlify-function.spec.ts"],
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
