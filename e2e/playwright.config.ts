import { existsSync } from "node:fs"
import { chromium, defineConfig } from "@playwright/test"
import { CHROMIUM_FLAGS, INSTALL_CHROMIUM, systemChromium } from "../scripts/chromium"
import type { SiteOptions } from "./fixtures"

// CHROMIUM_PATH, else Debian's Chromium, else a browser that `npx playwright install` put there.
// This config never downloads one.
function chromiumPath(): string | undefined {
  const system = systemChromium()
  if (system || existsSync(chromium.executablePath())) return system
  throw new Error(
    `The browser tests need Chromium. ${INSTALL_CHROMIUM} Or run \`npx playwright install chromium\`.`,
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
      args: CHROMIUM_FLAGS,
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
