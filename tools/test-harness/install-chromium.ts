import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import path from "node:path"
import { findChromium } from "./chromium"

// `install-chromium` (install-chromium.js runs this file): the site's `npm run test:e2e` and
// gatsby-adapter-node's `npm test` run it before Playwright, so that they work on a machine with no browser:
// it finds a Chromium, or installs one, saying what it does. Playwright's own download comes first (it
// works wherever its host is reachable); then, on Debian or Ubuntu as root, the distribution's package.

const HOW_TO =
  "The browser tests need Chromium. Install it with `npx playwright install chromium`, or on Debian or Ubuntu " +
  "with `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium or Chrome binary."

// Runs a command quietly, and says in one line how it went: its own output is long, and on a closed
// network Playwright's is a stack trace per retry.
function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  console.log(`  ${command} ${args.join(" ")}`)
  const result = spawnSync(command, args, { env, encoding: "utf8" })
  if (result.status === 0) return true
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim().split("\n")
  const why = output.filter((line) => /error|failed|unable|denied/i.test(line)).pop() ?? output.pop()
  console.log(`  failed: ${why ?? result.error?.message ?? `exit ${result.status}`}`)
  return false
}

function installChromium(): void {
  console.log("No Chromium found for the browser tests. Installing one with Playwright…")
  const playwright = path.join(path.dirname(require.resolve("@playwright/test/package.json")), "cli.js")
  if (run(process.execPath, [playwright, "install", "chromium"]) && findChromium()) return

  const root = process.getuid?.() === 0
  if (existsSync("/etc/debian_version") && root && existsSync("/usr/bin/apt-get")) {
    console.log("…that did not work. Installing the distribution's `chromium` package (about 120 MB)…")
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
    if (run("apt-get", ["update", "-q"], env))
      run("apt-get", ["install", "-y", "-q", "--no-install-recommends", "chromium"], env)
  }
}

const chosen = process.env.CHROMIUM_PATH
if (chosen && !existsSync(chosen)) {
  console.error(`CHROMIUM_PATH is ${chosen}, which does not exist. ${HOW_TO}`)
  process.exit(1)
}
if (!findChromium()) installChromium()
const found = findChromium()
if (!found) {
  console.error(`\n${HOW_TO}`)
  process.exit(1)
}
console.log(`Browser tests: Chromium at ${found}`)
