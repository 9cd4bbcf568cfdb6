import { existsSync } from "node:fs"
import { chromium, defineConfig } from "@playwright/test"
import type { SiteOptions } from "./fixtures"

// CHROMIUM_PATH, else Debian's Chromium, else a browser that `npx playwright install` put there.
// This config never downloads one.
function chromiumPath(): string | undefined {
  const chosen = process.env.CHROMIUM_PATH
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, which does not exist.`)
    return chosen
  }
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium"
  if (existsSync(chromium.executablePath())) return undefined
  throw new Error(
    "The browser tests need Chromium. Install Debian's (`apt-get install chromium`), " +
      "set CHROMIUM_PATH to a Chromium or Chrome binary, or run `npx playwright install chromium`.",
  )
}

export default defineConfig<SiteOptions>({
  testDir: ".",
  // gatsby develop deletes the engines that gatsby serve runs, so the two modes take turns.
  workers: 1,
  timeout: 30_000,
  reporter: [["list"], ["html", { open: "never", outputFolder: "../playwright-report" }]],
  outputDir: "../test-results",
  use: {
    launchOptions: {
      executablePath: chromiumPath(),
      // Chromium's own background traffic would fail, and be retried, on a closed network.
      args: [
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  // develop first, so that the production build follows it as it does for a person who develops and
  // then deploys: a build on top of develop's files breaks client-side navigation to /ssr/, which is
  // why `npm run build` cleans first.
  projects: [
    // Byte budgets and the Netlify function are about the production build.
    {
      name: "develop",
      use: { mode: "develop" },
      testIgnore: ["budgets.spec.ts", "netlify-function.spec.ts"],
    },
    { name: "serve", use: { mode: "serve" } },
  ],
})
