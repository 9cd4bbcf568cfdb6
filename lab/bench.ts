import { spawnSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import os from "node:os"
import path from "node:path"
import { startSite, type SiteServer } from "../e2e/gatsby"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { buildVariant, variants } from "./builds"
import { startUpstream } from "./upstream-process"

// `npm run bench`: /ssr/ held against the guide's page as written, built beside the site with the same
// Gatsby and served by the same server, in one run; the same build of the site on the Node server
// (../node-adapter/, alone and under Node's cluster) against gatsby serve; then the site with a slow,
// a failing, a hanging and an oversized upstream. `npm run bench -- --ab` adds the A/B twins of
// lab/builds.ts.
//
// Four processes, so that none measures another: this one only orchestrates; the upstream
// (upstream.ts) answers from memory; each site is its own `gatsby serve`; each load is its own
// autocannon. Timings are noisy here: read the ratios, which come from the same run.

const CONNECTIONS = 16
const WARM_UP_SECONDS = 2
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
// The site against its twins: many short rows, taken in turns, because this machine's speed drifts by
// more over tens of seconds than the pages differ; a ratio of neighbours cancels the drift.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12)
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3)
const autocannonCli = createRequire(import.meta.url).resolve("autocannon/autocannon.js")

type Load = { rps: number; p50: number; p99: number; errors: number; statuses: Record<string, number> }

function load(url: string, seconds: number, method = "GET"): Load {
  const run = spawnSync(
    process.execPath,
    [autocannonCli, "--json", "-c", String(CONNECTIONS), "-d", String(seconds), "-m", method, url],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  )
  const result = JSON.parse(run.stdout)
  const statuses: Record<string, number> = {}
  for (const key of ["1xx", "2xx", "3xx", "4xx", "5xx"]) if (result[key]) statuses[key] = result[key]
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    statuses,
  }
}

function measure(url: string, method = "GET"): Load {
  load(url, WARM_UP_SECONDS, method)
  return load(url, SECONDS, method)
}

// Resident memory of a server's process, now (VmRSS) or at its peak so far (VmHWM), from Linux's /proc.
function rssMb(pid: number, field: "VmRSS" | "VmHWM" = "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024)
}

const sum = (numbers: number[]): number => numbers.reduce((a, b) => a + b, 0)
const median = (numbers: number[]): number =>
  [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]

type Row = { setup: string; target: string } & Load

const rows: Row[] = []
function record(setup: string, target: string, result: Load): Load {
  rows.push({ setup, target, ...result })
  console.log(
    `${setup.padEnd(28)} ${target.padEnd(24)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms`,
  )
  return result
}

async function main(): Promise<void> {
  // --ab: every twin in lab/builds.ts; --ab=no-head,fetch: those. The guide's page always.
  const ab = process.argv.find((arg) => arg.startsWith("--ab"))
  const chosen = ab?.includes("=") ? ab.split("=")[1].split(",") : ab ? Object.keys(variants) : []
  const twins = ["guide", ...chosen.filter((name) => name !== "guide" && name !== "site")]
  const builds = ["site", ...twins].map((name) => {
    if (!variants[name]) throw new Error(`No twin named ${name} in lab/builds.ts`)
    return { name, site: buildVariant(variants[name]) }
  })

  const upstream = await startUpstream()
  const env = { DOG_API_URL: upstream.apiUrl }
  const servers: Record<string, SiteServer> = {}
  for (const build of builds) servers[build.name] = await startSite("serve", { env, site: build.site })
  // The site's own build on the Node server of ../node-adapter/ (`npm start`), if the fork kept it: alone,
  // and in one worker per core under Node's cluster.
  const site = builds[0].site
  const nodeServers = existsSync(path.join(site, "node-adapter")) ? ["node", "node cluster"] : []
  if (nodeServers.length) {
    servers.node = await startSite("node", { env, site })
    // cluster.js comes before the server's script on the command line, and runs it in its workers.
    servers["node cluster"] = await startSite("node", {
      env,
      site,
      nodeOptions: [path.join(import.meta.dirname, "cluster.js")],
    })
  }
  const targets = [...builds.map(({ name }) => name), ...nodeServers]
  const rounds: string[] = []
  const ratios: string[] = []
  const notes: string[] = []
  try {
    record("upstream alone", "random dog", measure(`${upstream.apiUrl}/breeds/image/random`))
    // Every target in turn, in one order in odd rounds and the other in even ones, so that no one
    // gains from its place in the order.
    const runs: Record<string, Load[]> = Object.fromEntries(targets.map((name) => [name, []]))
    for (const name of targets) load(`${servers[name].url}/ssr/`, WARM_UP_SECONDS)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of round % 2 ? targets : [...targets].reverse())
        runs[name].push(load(`${servers[name].url}/ssr/`, ROUND_SECONDS))
    }
    for (const name of targets) {
      const rps = runs[name].map((run) => run.rps)
      console.log(`${name.padEnd(12)} /ssr/ req/s by round: ${rps.map((n) => n.toFixed(0)).join(" ")}`)
      const peak = name === "node cluster" ? "" : `${rssMb(servers[name].pid)}`
      rounds.push(
        `| ${name} | ${median(rps).toFixed(0)} | ${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)} | ${median(runs[name].map((run) => run.p50))} | ${median(runs[name].map((run) => run.p99))} | ${peak} |`,
      )
    }
    // Each pair from the same rounds: the site against the guide's page and its A/B twins, all on
    // gatsby serve; the Node server against gatsby serve, with the same build.
    const pairs = [...twins.map((twin) => ["site", twin]), ...nodeServers.map((server) => [server, "site"])]
    for (const [a, b] of pairs) {
      const each = runs[a].map((run, i) => run.rps / runs[b][i].rps)
      const all = sum(runs[a].map((run) => run.rps)) / sum(runs[b].map((run) => run.rps))
      ratios.push(
        `| ${a} ÷ ${b} | ${median(each).toFixed(2)} | ${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)} | ${all.toFixed(2)} |`,
      )
      console.log(
        `${a} ÷ ${b}: median ${median(each).toFixed(2)} of ${each.map((r) => r.toFixed(2)).join(" ")}`,
      )
    }
    record("site", "static /", measure(`${servers.site.url}/`))
    record("site", "/ssr/ page-data", measure(`${servers.site.url}/page-data/ssr/page-data.json`))
    record("site", "/breeds/husky/", measure(`${servers.site.url}/breeds/husky/`))
    record("site", "DELETE /ssr/", measure(`${servers.site.url}/ssr/`, "DELETE"))

    upstream.set("latency 50")
    record("site, upstream 50 ms", "/ssr/", measure(`${servers.site.url}/ssr/`))
    record("guide, upstream 50 ms", "/ssr/", measure(`${servers.guide.url}/ssr/`))
    upstream.set("latency 0")

    for (const mode of ["http-500", "hang"]) {
      upstream.set(mode)
      const before = (await upstream.stats()).requests
      const result = record(`site, upstream ${mode}`, "/ssr/", measure(`${servers.site.url}/ssr/`))
      const asked = (await upstream.stats()).requests - before
      const pages = Math.round(result.rps * (SECONDS + WARM_UP_SECONDS))
      notes.push(
        `- Upstream ${mode}: the site asked it ${asked} times for about ${pages} pages (warm-up included).`,
      )
    }
    upstream.set("big")
    record("site, upstream 8 MB answer", "/ssr/", measure(`${servers.site.url}/ssr/`))
    upstream.set("ok")
    notes.push(
      `- Peak RSS of the site's server over the whole run, 8 MB answers included: ${rssMb(servers.site.pid)} MB.`,
    )
    // Memory without the others' noise: each server of the site's build started afresh, alone, and
    // loaded once: in the rounds, every server shares the machine with the others.
    for (const mode of nodeServers.length ? (["serve", "node"] as const) : []) {
      const fresh = await startSite(mode, { env, site })
      try {
        const atRest = rssMb(fresh.pid, "VmRSS")
        const result = load(`${fresh.url}/ssr/`, SECONDS)
        notes.push(
          `- ${mode === "node" ? "Node server" : "gatsby serve"} started afresh, alone: ${atRest} MB at rest, peak ${rssMb(fresh.pid)} MB after ${SECONDS} s of /ssr/ at ${result.rps.toFixed(0)} req/s.`,
        )
      } finally {
        await fresh.stop()
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop()
    upstream.stop()
  }

  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench${ab ? ` -- ${ab}` : ""}\`: ${os.cpus().length} cores, Node ${process.version},`,
    `${CONNECTIONS} connections, ${WARM_UP_SECONDS} s warm-up, ${SECONDS} s per row, each site on \`gatsby serve\`,`,
    "the upstream (lab/upstream.ts) and autocannon each in a process of their own, all on 127.0.0.1.",
    "",
    "| setup | target | req/s | p50 ms | p99 ms | errors | statuses |",
    "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${r.target} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${Object.entries(
          r.statuses,
        )
          .map(([k, v]) => `${k}: ${v}`)
          .join(", ")} |`,
    ),
    "",
    `/ssr/ in ${ROUNDS} rounds of ${ROUND_SECONDS} s, each in turn (medians of the rounds; peak RSS after them):`,
    "",
    "| /ssr/ of | req/s | range | p50 ms | p99 ms | peak RSS MB |",
    "| --- | ---: | --- | ---: | ---: | ---: |",
    ...rounds,
    "",
    "| ratio | median of the rounds | range | of all requests |",
    "| --- | ---: | --- | ---: |",
    ...ratios,
    "",
    ...notes,
  ].join("\n")
  console.log(`\n${report}\n`)
  writeBenchmarksSection("bench", report)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
