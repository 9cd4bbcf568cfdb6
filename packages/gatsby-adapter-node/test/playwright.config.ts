import { defineConfig } from "@playwright/test"
import { browserUse } from "test-harness"
import type { Configuration } from "./sites"

// The fixture sites, each built with the packed adapter (global-setup.ts) and served from its standalone
// folder alone (sites.ts). .apps/basic, modelled on Gatsby's own adapter suite, in each of its
// configurations: trailingSlash always, never and ignore, and a pathPrefix (fixture-suite/). Sites
// modelled on ones that nobody here wrote, each compared route by route with `gatsby serve` on the
// same build, and driven in Chromium where they have something to click (starters/).
const basic: Record<string, Configuration> = {
  always: { app: "basic", trailingSlash: "always", pathPrefix: "" },
  never: { app: "basic", trailingSlash: "never", pathPrefix: "" },
  ignore: { app: "basic", trailingSlash: "ignore", pathPrefix: "" },
  "prefix, never": { app: "basic", trailingSlash: "never", pathPrefix: "/prefix" },
}
const starters = ["starter-default", "no-404-page", "functions", "client-only"]

export default defineConfig<{ configuration: Configuration }>({
  globalSetup: "./global-setup.ts",
  // Each project builds a site (about a minute here); two builds at once would share two cores.
  workers: 1,
  timeout: 30_000,
  reporter: [
    ["list"],
    ["html", { open: "never", outputFolder: "../../../playwright-report/gatsby-adapter-node" }],
  ],
  outputDir: "../../../test-results/gatsby-adapter-node",
  use: browserUse,
  projects: [
    ...Object.entries(basic).map(([name, configuration]) => ({
      name,
      testDir: "fixture-suite",
      use: { configuration },
    })),
    ...starters.map((app) => ({
      name: app,
      testDir: "starters",
      // What every site is checked for, and what its own spec clicks through.
      testMatch: ["same-as-gatsby-serve.spec.ts", `${app}.spec.ts`],
      use: { configuration: { app, trailingSlash: "always", pathPrefix: "" } satisfies Configuration },
    })),
  ],
})
