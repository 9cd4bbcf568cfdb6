import os from "node:os"
import autocannon from "autocannon"
import { startStandInApi } from "../stand-in-api/server"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { startGatsby } from "../e2e/gatsby"
import { buildIfNeeded } from "./site"

// `npm run bench`: what a server-rendered dog costs. The same load goes, in turn, to the stand-in
// API itself, the static home page, /ssr/, its page-data (the client-navigation path) and a breed
// page, with the API answering at once and after 50 ms. Results go to docs/benchmarks.md; timings
// never go into assertions, because this machine's timings are noisy.

const CONNECTIONS = 16
const WARM_UP_SECONDS = 2
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const LATENCIES_MS = [0, 50]

type Row = {
  latencyMs: number
  target: string
  rps: number
  p50: number
  p99: number
  errors: number
  non2xx: number
  // For Gatsby's pages: its requests to the API, and the TCP connections it opened for them.
  upstream?: { requests: number; connections: number }
}

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: seconds })
}

async function measure(latencyMs: number): Promise<Row[]> {
  const api = await startStandInApi({ latencyMs })
  const site = await startGatsby("serve", { DOG_API_URL: api.apiUrl })
  const targets: [string, string][] = [
    ["dog API (stand-in)", `${api.apiUrl}/breeds/image/random`],
    ["static /", `${site.url}/`],
    ["/ssr/", `${site.url}/ssr/`],
    ["/ssr/ page-data", `${site.url}/page-data/ssr/page-data.json`],
    ["/breeds/husky/", `${site.url}/breeds/husky/`],
  ]
  const rows: Row[] = []
  try {
    for (const [target, url] of targets) {
      const before = { requests: api.apiRequests(), connections: api.connections() }
      await load(url, WARM_UP_SECONDS)
      const result = await load(url, SECONDS)
      const row: Row = {
        latencyMs,
        target,
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts,
        non2xx: result.non2xx,
      }
      // With keep-alive, Gatsby reuses its connections to the API: far fewer than its requests.
      if (target.startsWith("/")) {
        row.upstream = {
          requests: api.apiRequests() - before.requests,
          connections: api.connections() - before.connections,
        }
      }
      rows.push(row)
      console.log(`${latencyMs} ms  ${target.padEnd(20)} ${row.rps.toFixed(0).padStart(6)} req/s`)
    }
  } finally {
    await site.stop()
    await api.close()
  }
  return rows
}

function table(rows: Row[]): string {
  const lines = [
    "| API latency | target | req/s | p50 ms | p99 ms | errors | non-2xx | API requests / new connections |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.latencyMs} ms | ${r.target} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${r.upstream ? `${r.upstream.requests} / ${r.upstream.connections}` : ""} |`,
    ),
  ]
  const ratios = LATENCIES_MS.map((latencyMs) => {
    const of = (target: string) => rows.find((r) => r.latencyMs === latencyMs && r.target === target)!.rps
    // What the API can give 16 connections: its measured rate, or 16 requests per latency.
    const limit = latencyMs === 0 ? of("dog API (stand-in)") : CONNECTIONS / (latencyMs / 1000)
    return `| ${latencyMs} ms | ${(of("/ssr/") / of("static /")).toFixed(2)} | ${(of("/ssr/") / limit).toFixed(2)} (limit ${limit.toFixed(0)} req/s) |`
  })
  return [
    ...lines,
    "",
    "| API latency | /ssr/ ÷ static | /ssr/ ÷ upstream limit |",
    "| --- | ---: | ---: |",
    ...ratios,
  ].join("\n")
}

async function main(): Promise<void> {
  buildIfNeeded()
  const rows: Row[] = []
  for (const latencyMs of LATENCIES_MS) rows.push(...(await measure(latencyMs)))

  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`: ${os.cpus().length} cores, Node ${process.version},`,
    `${CONNECTIONS} connections, ${WARM_UP_SECONDS} s warm-up, ${SECONDS} s per target, \`gatsby serve\` and the stand-in API on 127.0.0.1.`,
    "",
    table(rows),
  ].join("\n")
  console.log(`\n${report}\n`)
  writeBenchmarksSection("bench", report)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
