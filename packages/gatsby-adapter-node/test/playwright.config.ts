import { defineConfig } from "@playwright/test"
import { CHROMIUM_FLAGS, findChromium } from "../../../e2e/chromium"
import type { Configuration } from "./fixture"

// The fixture site, built by the adapter and served by `node start.js`, in every configuration of
// Gatsby's own adapter suite: trailingSlash always, never and ignore, and a pathPrefix.
const configurations: Record<string, Configuration> = {
  always: { trailingSlash: "always", pathPrefix: "" },
  never: { trailingSlash: "never", pathPrefix: "" },
  ignore: { trailingSlash: "ignore", pathPrefix: "" },
  "prefix, never": { trailingSlash: "never", pathPrefix: "/prefix" },
}

export default defineConfig<{ configuration: Configuration }>({
  testDir: "fixture-suite",
  globalSetup: "./global-setup.ts",
  // Each configuration builds the site (about a minute here); two builds at once would share two cores.
  workers: 1,
  timeout: 30_000,
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "../../../playwright-report/gatsby-adapter-node" }],
  ],
  outputDir: "../../../test-results/gatsby-adapter-node",
  use: {
    launchOptions: { executablePath: findChromium(), args: CHROMIUM_FLAGS },
    trace: "retain-on-failure",
  },
  projects: Object.entries(configurations).map(([name, configuration]) => ({ name, use: { configuration } })),
})
