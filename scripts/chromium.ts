import { existsSync } from "node:fs"

// The Chromium that the browser tests and Lighthouse drive: CHROMIUM_PATH if set, else Debian's.
export function systemChromium(): string | undefined {
  const chosen = process.env.CHROMIUM_PATH
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`CHROMIUM_PATH is ${chosen}, which does not exist.`)
    return chosen
  }
  return existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined
}

export const INSTALL_CHROMIUM =
  "Install Debian's Chromium (`apt-get install chromium`) or set CHROMIUM_PATH to a Chromium or Chrome binary."

// Chromium's own background traffic would fail, and be retried, on a closed network.
export const CHROMIUM_FLAGS = [
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]
