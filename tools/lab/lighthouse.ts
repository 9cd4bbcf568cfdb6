import * as chromeLauncher from "chrome-launcher"
import lighthouse from "lighthouse"
import { startStandInApi } from "../stand-in-api/server"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { CHROMIUM_FLAGS, findChromium, startSite } from "test-harness"
import { buildIfNeeded, root } from "./site"

// `npm run lighthouse`: Lighthouse's scores for / and /ssr/ on `gatsby serve`, with the stand-in API
// and the browser tests' Chromium (test-harness). Scores go to docs/benchmarks.md.

const PAGES = ["/", "/ssr/"]
const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]

async function main(): Promise<void> {
  const chromePath = findChromium()
  if (!chromePath)
    throw new Error("Lighthouse needs Chromium: run `npm run test:e2e` once, which installs it.")

  buildIfNeeded()
  const api = await startStandInApi()
  const site = await startSite(root, "serve", { env: { DOG_API_URL: api.apiUrl } })
  const chrome = await chromeLauncher.launch({
    chromePath,
    chromeFlags: ["--headless=new", "--no-sandbox", ...CHROMIUM_FLAGS],
  })

  const rows: string[] = []
  const flagged: string[] = []
  try {
    for (const page of PAGES) {
      const result = await lighthouse(`${site.url}${page}`, {
        port: chrome.port,
        onlyCategories: CATEGORIES,
        output: "json",
        logLevel: "error",
      })
      const lhr = result!.lhr
      const scores = CATEGORIES.map((id) => Math.round((lhr.categories[id].score ?? 0) * 100))
      rows.push(`| ${page} | ${scores.join(" | ")} |`)
      // Every audit that lost points, so that what it flags can be fixed.
      for (const category of CATEGORIES) {
        for (const ref of lhr.categories[category].auditRefs) {
          const audit = lhr.audits[ref.id]
          if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
            flagged.push(`- ${page} ${category}: ${audit.title} (${audit.displayValue ?? audit.score})`)
          }
        }
      }
    }
  } finally {
    await chrome.kill()
    await site.stop()
    await api.close()
  }

  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run lighthouse\` (Lighthouse 12, its default mobile`,
    "emulation and simulated throttling) on `gatsby serve` with the stand-in API:",
    "",
    "| page | performance | accessibility | best practices | SEO |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    flagged.length ? "What Lighthouse flagged:\n\n" + flagged.join("\n") : "Lighthouse flagged nothing.",
  ].join("\n")
  console.log(`\n${report}\n`)

  writeBenchmarksSection("lighthouse", report)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
