import { defineConfig, type Project } from "@playwright/test"
import { browserUse, usesNodeAdapter } from "test-harness"
import { root, type SiteOptions } from "./fixtures"

// The site's own tests of `npm start` (the Node server, its cache, deploying it), and every production
// test again against it, while the site depends on gatsby-adapter-node.
const NODE_SERVER_SPECS = ["npm-start.spec.ts", "response-cache.spec.ts", "deploy.spec.ts"]
const PAGE_SPECS = ["ssr.spec.ts", "breeds.spec.ts", "for-you.spec.ts"]
const nodeServer: Project<SiteOptions>[] = usesNodeAdapter(root)
  ? [
      {
        name: "node",
        use: { mode: "node" },
        dependencies: ["build"],
        // The most tests: a second worker once gatsby serve's are done.
        workers: 2,
        testMatch: [...PAGE_SPECS, "budgets.spec.ts", ...NODE_SERVER_SPECS],
      },
    ]
  : []

// Each Gatsby command as often as the tests need it, in an order a person could type them, with no
// clean between them: gatsby build; gatsby serve and `npm start` on that build, and, at the same time,
// gatsby develop on a copy of the built site (develop rewrites .cache/, which the servers read; see
// fixtures.ts); then, in that copy, gatsby build for Netlify on top of develop's files, and gatsby serve
// on it. A project depends on the ones before it, so that the order is kept (Playwright starts a
// project once every project of the step before it has ended).
export default defineConfig<SiteOptions>({
  testDir: ".",
  // Three servers at a time (each worker starts the one it tests): two cores keep up with three.
  workers: 3,
  timeout: 30_000,
  reporter: [["list"], ["html", { open: "never", outputFolder: "../../playwright-report" }]],
  outputDir: "../../test-results",
  // `install-chromium`, which `npm run test:e2e` runs first, made sure there is a Chromium.
  use: browserUse,
  projects: [
    { name: "build", testMatch: "build.setup.ts" },
    {
      name: "serve",
      use: { mode: "serve" },
      dependencies: ["build"],
      workers: 1,
      testMatch: [...PAGE_SPECS, "budgets.spec.ts"],
    },
    ...nodeServer,
    {
      name: "develop",
      use: { mode: "develop", inCopy: true },
      dependencies: ["build"],
      // One gatsby develop in a folder.
      workers: 1,
      // The pages, on a built site: develop still works after a build.
      testMatch: PAGE_SPECS,
      grepInvert: /@production/,
    },
    {
      name: "build for Netlify",
      dependencies: ["develop"],
      testMatch: "build-for-netlify.setup.ts",
    },
    {
      name: "netlify",
      use: { mode: "serve", inCopy: true },
      dependencies: ["build for Netlify"],
      testMatch: ["netlify-function.spec.ts", "gatsby-commands.spec.ts"],
    },
  ],
})
