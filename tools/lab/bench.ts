import { readFileSync } from "node:fs"
import os from "node:os"
import { startSite, usesNodeAdapter, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { benchFiles } from "./file-rows"
import { CONNECTIONS, load, median, sum, type Load } from "./load"
import { buildVariant, variants } from "./builds"
import { startLabServer, startUpstream, type LabServer } from "./upstream-process"
import { benchPages } from "./big"
import { benchWorkers } from "./workers"
import { benchImages } from "./images"

// `npm run bench`: /ssr/ held against the guide's page as written and against the site without its
// Head, each built beside the site with the same Gatsby, in one run, on gatsby serve and on the Node
// server of gatsby-adapter-node (`npm start`; the site's build also with two workers); all of them
// against a floor with no framework (floor.ts); a page from the Node server's cache against a static
// file; then the site with a slow, a failing, a hanging and an oversized upstream.
// `npm run bench -- --ab` adds the other A/B twins of lab/builds.ts.
//
// Processes of their own, so that none measures another: this one only orchestrates; the upstream
// (upstream.ts) answers from memory; each server and the floor; each load is its own autocannon.
// Timings are noisy here: read the ratios, which come from the same run.

const WARM_UP_SECONDS = 2
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
// The site against its twins: many short rows, taken in turns, because this machine's speed drifts by
// more over tens of seconds than the pages differ; a ratio of neighbours cancels the drift.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12)
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3)

function measure(url: string, method = "GET"): Load {
  load(url, WARM_UP_SECONDS, method)
  return load(url, SECONDS, method)
}

// Resident memory of a server's process, now (VmRSS) or at its peak so far (VmHWM), from Linux's /proc.
function rssMb(pid: number, field: "VmRSS" | "VmHWM" = "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)![1]) / 1024)
}

// a ÷ b, round by round (the median and range of those ratios) and over all requests.
function ratio(a: string, b: string, runs: Record<string, Load[]>, label = `${a} ÷ ${b}`): string {
  const each = runs[a].map((run, i) => run.rps / runs[b][i].rps)
  const all = sum(runs[a].map((run) => run.rps)) / sum(runs[b].map((run) => run.rps))
  console.log(`${label}: median ${median(each).toFixed(2)} of ${each.map((r) => r.toFixed(2)).join(" ")}`)
  return `| ${label} | ${median(each).toFixed(2)} | ${Math.min(...each).toFixed(2)}–${Math.max(...each).toFixed(2)} | ${all.toFixed(2)} |`
}

// The round with the median rate.
const middle = (loads: Load[]): Load => [...loads].sort((a, b) => a.rps - b.rps)[Math.floor(loads.length / 2)]

type Row = { setup: string; target: string } & Load

const rows: Row[] = []
function record(setup: string, target: string, result: Load): Load {
  rows.push({ setup, target, ...result })
  console.log(
    `${setup.padEnd(28)} ${target.padEnd(24)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms`,
  )
  return result
}

// The site's build on the Node server (`npm start`) where the fork kept it, and on gatsby serve.
function fileServers(servers: Record<string, RunningServer>): Record<string, string> {
  return Object.fromEntries(
    [
      ["npm start, 2 workers", servers["node 2 workers site"]],
      ["npm start", servers["node site"]],
      ["gatsby serve", servers["serve site"]],
    ].flatMap(([name, server]) => (server ? [[name, (server as RunningServer).url]] : [])),
  )
}

async function main(): Promise<void> {
  // --pages N (or N,M,...): generated sites of that many pages (big.ts), alone.
  const pages = process.argv.find((arg) => arg.startsWith("--pages"))
  if (pages) {
    const value = pages.includes("=") ? pages.split("=")[1] : process.argv[process.argv.indexOf(pages) + 1]
    return benchPages((value ?? "10000").split(",").map(Number))
  }
  // --images: Gatsby's Image CDN on the Node server (images.ts), alone.
  if (process.argv.includes("--images")) return benchImages()
  // --ab: every twin in lab/builds.ts; --ab=fetch,no-links: those. The guide's page, the twin without
  // a Head and the twin on React 18 always: they are what the site is held to.
  const ab = process.argv.find((arg) => arg.startsWith("--ab"))
  const chosen = ab?.includes("=") ? ab.split("=")[1].split(",") : ab ? Object.keys(variants) : []
  // --files: the file rows alone, with the site's build.
  const filesOnly = process.argv.includes("--files")
  // --workers: the Node server with one worker and two, the tiers of its cache, its memory (workers.ts).
  const workersOnly = process.argv.includes("--workers")
  const twins =
    filesOnly || workersOnly
      ? []
      : [...new Set(["guide", "no-head", "react-18", ...chosen])].filter((name) => name !== "site")
  const builds = ["site", ...twins].map((name) => {
    if (!variants[name]) throw new Error(`No twin named ${name} in lab/builds.ts`)
    return { name, site: buildVariant(variants[name]) }
  })

  const upstream = await startUpstream()
  const env = { DOG_API_URL: upstream.apiUrl }
  // Each build on gatsby serve, and on the Node server of gatsby-adapter-node (`npm start`) if the fork
  // kept it: a fast server shows what a page costs, which a slow one hides. The site's build also with two
  // workers (WEB_CONCURRENCY=2).
  const site = builds[0].site
  const node = usesNodeAdapter(site)
  // The floor, and the site's engine with no server around it (what no framework, and no server
  // glue, would give; the second for the Node server's sake). Started first: they end with this
  // process, which the servers do not.
  const labServers: Record<string, LabServer> = { floor: await startLabServer("floor.ts", env) }
  if (node) labServers["engine alone"] = await startLabServer("engine-alone.ts", { ...env, SITE_DIR: site })
  const servers: Record<string, RunningServer> = {}
  for (const build of builds) {
    servers[`serve ${build.name}`] = await startSite(build.site, "serve", { env })
    if (node) servers[`node ${build.name}`] = await startSite(build.site, "node", { env })
  }
  if (node)
    servers["node 2 workers site"] = await startSite(site, "node", { env: { ...env, WEB_CONCURRENCY: "2" } })
  if (workersOnly) {
    for (const server of Object.values(servers)) await server.stop()
    for (const server of Object.values(labServers)) server.stop()
    try {
      await benchWorkers(site, env)
    } finally {
      upstream.stop()
    }
    return
  }
  if (filesOnly) {
    try {
      await benchFiles(site, fileServers(servers))
    } finally {
      for (const server of Object.values(servers)) await server.stop()
      for (const server of Object.values(labServers)) server.stop()
      upstream.stop()
    }
    return
  }
  const urls: Record<string, string> = {}
  const pids: Record<string, number> = {}
  for (const [name, server] of [...Object.entries(labServers), ...Object.entries(servers)])
    [urls[name], pids[name]] = [server.url, server.pid]
  const targets = Object.keys(urls)
  const rounds: string[] = []
  const ratios: string[] = []
  const notes: string[] = []
  try {
    record("upstream alone", "random dog", measure(`${upstream.apiUrl}/breeds/image/random`))
    // Every target in turn, in one order in odd rounds and the other in even ones, so that no one
    // gains from its place in the order.
    const runs: Record<string, Load[]> = Object.fromEntries(targets.map((name) => [name, []]))
    for (const name of targets) load(`${urls[name]}/ssr/`, WARM_UP_SECONDS)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of round % 2 ? targets : [...targets].reverse())
        runs[name].push(load(`${urls[name]}/ssr/`, ROUND_SECONDS))
    }
    for (const name of targets) {
      const rps = runs[name].map((run) => run.rps)
      console.log(`${name.padEnd(20)} /ssr/ req/s by round: ${rps.map((n) => n.toFixed(0)).join(" ")}`)
      const peak = name === "node 2 workers site" ? "" : `${rssMb(pids[name])}`
      rounds.push(
        `| ${name} | ${median(rps).toFixed(0)} | ${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)} | ${median(runs[name].map((run) => run.p50))} | ${median(runs[name].map((run) => run.p99))} | ${peak} |`,
      )
    }
    // Each pair from the same rounds: the site against the guide's page and its A/B twins, on each
    // server; the Node server against gatsby serve, with the same build; and against the floor.
    const pairs = [
      ...twins.map((twin) => ["serve site", `serve ${twin}`]),
      ...(node
        ? [
            ...twins.map((twin) => ["node site", `node ${twin}`]),
            ["node site", "serve site"],
            ["node guide", "serve guide"],
            ["node 2 workers site", "node site"],
            ["node 2 workers site", "serve site"],
            ["node site", "engine alone"],
            ["node site", "floor"],
            ["node guide", "floor"],
          ]
        : []),
      ["serve site", "floor"],
    ]
    for (const [a, b] of pairs) ratios.push(ratio(a, b, runs))
    if (node) {
      // A page from the Node server's cache (/breeds/ says public, s-maxage) against a static file.
      const cached: Record<string, Load[]> = { "/breeds/": [], "/": [] }
      for (let round = 1; round <= ROUNDS / 2; round++) {
        for (const target of round % 2 ? ["/breeds/", "/"] : ["/", "/breeds/"])
          cached[target].push(load(`${urls["node site"]}${target}`, ROUND_SECONDS))
      }
      record("node site, cache", "/breeds/ (median)", middle(cached["/breeds/"]))
      record("node site", "static / (median)", middle(cached["/"]))
      ratios.push(ratio("/breeds/", "/", cached, "node: /breeds/ from the cache ÷ static /"))
    }
    await benchFiles(site, fileServers(servers))
    const serve = urls["serve site"]
    record("site", "static /", measure(`${serve}/`))
    record("site", "/ssr/ page-data", measure(`${serve}/page-data/ssr/page-data.json`))
    record("site", "/breeds/husky/", measure(`${serve}/breeds/husky/`))
    record("site", "DELETE /ssr/", measure(`${serve}/ssr/`, "DELETE"))

    upstream.set("latency 50")
    record("site, upstream 50 ms", "/ssr/", measure(`${serve}/ssr/`))
    record("guide, upstream 50 ms", "/ssr/", measure(`${urls["serve guide"]}/ssr/`))
    upstream.set("latency 0")

    for (const mode of ["http-500", "hang"]) {
      upstream.set(mode)
      const before = (await upstream.stats()).requests
      const result = record(`site, upstream ${mode}`, "/ssr/", measure(`${serve}/ssr/`))
      const asked = (await upstream.stats()).requests - before
      const pages = Math.round(result.rps * (SECONDS + WARM_UP_SECONDS))
      notes.push(
        `- Upstream ${mode}: the site asked it ${asked} times for about ${pages} pages (warm-up included).`,
      )
    }
    upstream.set("big")
    record("site, upstream 8 MB answer", "/ssr/", measure(`${serve}/ssr/`))
    upstream.set("ok")
    notes.push(
      `- Peak RSS of the site's server over the whole run, 8 MB answers included: ${rssMb(pids["serve site"])} MB.`,
    )
    // Memory without the others' noise: each server of the site's build started afresh, alone, and
    // loaded once: in the rounds, every server shares the machine with the others.
    for (const mode of node ? (["serve", "node"] as const) : []) {
      const fresh = await startSite(site, mode, { env })
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
    for (const server of Object.values(labServers)) server.stop()
  }
  try {
    if (node) await benchWorkers(site, env)
  } finally {
    upstream.stop()
  }

  const report = [
    `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench${ab ? ` -- ${ab}` : ""}\`: ${os.cpus().length} cores, Node ${process.version},`,
    `${CONNECTIONS} connections, ${WARM_UP_SECONDS} s warm-up, ${SECONDS} s per row (on \`gatsby serve\` unless it says node),`,
    "the upstream (tools/lab/upstream.ts), each server and autocannon each in a process of their own, all on 127.0.0.1.",
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
