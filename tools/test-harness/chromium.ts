import { existsSync } from "node:fs"
import { chromium } from "@playwright/test"

// The Chromium that the browser tests drive: CHROMIUM_PATH if set, else a system Chromium, else the one
// that `playwright install chromium` put in Playwright's cache. None of it downloads anything; that is
// install-chromium.ts's job, which the test scripts run first.

const SYSTEM_CHROMIUMS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, ...SYSTEM_CHROMIUMS, chromium.executablePath()]
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate))
}

// Chromium's own background traffic would fail, and be retried, on a closed network.
export const CHROMIUM_FLAGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]

// The browser part of a Playwright config's `use`: this Chromium, and a trace and screenshot of a test
// that failed.
export const browserUse = {
  launchOptions: { executablePath: findChromium(), args: CHROMIUM_FLAGS },
  trace: "retain-on-failure",
  screenshot: "only-on-failure",
} as const
