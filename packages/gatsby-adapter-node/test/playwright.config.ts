import { defineConfig } from "@playwright/test"
import { browserUse } from "test-harness"
import type { Configuration } from "./sites"

// The fixture sites, each built with the packed adapter (global-setup.ts) and served from its standalone
// folder alone (sites.ts). .apps/basic, modelled on Gatsby's own adapter suite, in each of its
// configurations: trailingSlash always, never and ignore (with imageCDN "request"), and a pathPrefix
// (fixture-suite/). Sites
// modelled on ones that nobody here wrote, each compared route by route with `gatsby serve` on the
// same build, and driven in Chromium where they have something to click (starters/).
const basic: Record<string, Configuration> = {
  always: { app: "basic", trailingSlash: "always", pathPrefix: "" },
  never: { app: "basic", trailingSlash: "never", pathPrefix: "" },
  // With the adapter's imageCDN "request": every remote image, a static page's too, made by the server.
  ignore: { app: "basic", trailingSlash: "ignore", pathPrefix: "", imageCDN: "request" },
  "prefix, never": { app: "basic", trailingSlash: "never", pathPrefix: "/prefix" },
}
const starters = ["starter-default", "no-404-page", "functions", "client-only"]

export default defineConfig<{ configuration: Configuration }>({
  globalSetup: "./global-setup.ts",
  // Two projects at a time, one worker each (each project builds its site once, in its worker; two
  // workers of one project would build the same copy at once): a build is about a minute here, much
  // of it on one core.
  workers: 2,
  timeout: 30_000,
  // In the package's own folder, not in the site's test-results/, which the site's suite empties as it
  // starts: with both running at once, the artifacts of this one's tests vanished under them.
  reporter: [["list"], ["html", { open: "never", outputFolder: "../playwright-report" }]],
  outputDir: "../test-results",
  use: browserUse,
  projects: [
    ...Object.entries(basic).map(([name, configuration]) => ({
      name,
      testDir: "fixture-suite",
      workers: 1,
      use: { configuration },
    })),
    ...starters.map((app) => ({
      name: app,
      testDir: "starters",
      workers: 1,
      // What every site is checked for, and what its own spec clicks through.
      testMatch: ["same-as-gatsby-serve.spec.ts", `${app}.spec.ts`],
      use: { configuration: { app, trailingSlash: "always", pathPrefix: "" } satisfies Configuration },
    })),
  ],
})
