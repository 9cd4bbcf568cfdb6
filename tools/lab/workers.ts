import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import os from "node:os"
import { startRedis, startSite, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { load, median, sum, type Load } from "./load"

// `npm run bench -- --workers` (and a section of the whole bench): the Node server past one process.
// /ssr/ and /breeds/ with one worker and two (WEB_CONCURRENCY) against gatsby serve, in turns; a kept
// page from a server's memory, from the shared store (REDIS_URL, a Redis of the lab's own) and
// rendered; the whole server's memory at rest with one worker and two.

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12)
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3)
// Addresses per tier and round, and clients asking at once, for the tiers of the cache.
const ADDRESSES = 2000
const CLIENTS = 16

// Resident memory of a process and every process under it, now, from Linux's /proc.
function treeRssMb(pid: number): number {
  const rss = (id: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, "utf8"))![1]) / 1024
  const children = (id: number): number[] =>
    readFileSync(`/proc/${id}/task/${id}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
  const all = (id: number): number[] => [id, ...children(id).flatMap(all)]
  return Math.round(sum(all(pid).map(rss)))
}

// Requests a second for `paths`, asked by CLIENTS clients at once on kept-alive connections.
async function rate(base: string, paths: string[]): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS })
  const get = (path: string) =>
    new Promise<void>((resolve, reject) => {
      request(`${base}${path}`, { agent }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode}`))
        res.resume().once("end", resolve)
      })
        .once("error", reject)
        .end()
    })
  const queue = [...paths]
  const started = performance.now()
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let path = queue.shift(); path; path = queue.shift()) await get(path)
    }),
  )
  agent.destroy()
  return paths.length / ((performance.now() - started) / 1000)
}

// What a round asks of each tier: /breeds/ at addresses of their own (the cache keys by path and query).
const addresses = (round: number) =>
  Array.from({ length: ADDRESSES }, (_, n) => `/breeds/?round=${round}&n=${n}`)

/** A kept page rendered (the first server), from the store (the second), from memory (the second again). */
async function tiers(site: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const redis = await startRedis()
  const shared = { ...env, REDIS_URL: redis.url }
  const [first, second] = [
    await startSite(site, "node", { env: shared }),
    await startSite(site, "node", { env: shared }),
  ]
  const runs: Record<string, number[]> = { rendered: [], "from the store": [], "from memory": [] }
  try {
    for (let round = 0; round <= ROUNDS / 4; round++) {
      const paths = addresses(round)
      const rendered = await rate(first.url, paths)
      const stored = await rate(second.url, paths)
      const remembered = await rate(second.url, paths)
      // The first round warms the servers up.
      if (round === 0) continue
      runs.rendered.push(rendered)
      runs["from the store"].push(stored)
      runs["from memory"].push(remembered)
    }
  } finally {
    await Promise.all([first.stop(), second.stop()])
    await redis.stop()
  }
  const rendered = median(runs.rendered)
  return Object.entries(runs).map(
    ([tier, rates]) =>
      `| /breeds/, ${tier} | ${Math.round(median(rates)).toLocaleString("en")} | ${(median(rates) / rendered).toFixed(2)} |`,
  )
}

export async function benchWorkers(site: string, env: NodeJS.ProcessEnv): Promise<void> {
  const servers: Record<string, RunningServer> = {}
  const rows: string[] = []
  try {
    servers["npm start, 1 worker"] = await startSite(site, "node", { env })
    servers["npm start, 2 workers"] = await startSite(site, "node", { env: { ...env, WEB_CONCURRENCY: "2" } })
    servers["gatsby serve"] = await startSite(site, "serve", { env })
    const rest = Object.fromEntries(
      Object.entries(servers).map(([name, server]) => [name, treeRssMb(server.pid)]),
    )
    const names = Object.keys(servers)
    for (const path of ["/ssr/", "/breeds/"]) {
      const runs: Record<string, Load[]> = Object.fromEntries(names.map((name) => [name, []]))
      for (const name of names) load(`${servers[name].url}${path}`, 2)
      for (let round = 1; round <= ROUNDS; round++) {
        for (const name of round % 2 ? names : [...names].reverse())
          runs[name].push(load(`${servers[name].url}${path}`, ROUND_SECONDS))
      }
      const of = (name: string) => median(runs[name].map((run) => run.rps))
      const ratio = (a: string, b: string) =>
        median(runs[a].map((run, i) => run.rps / runs[b][i].rps)).toFixed(2)
      for (const name of names) {
        rows.push(
          `| ${path} | ${name} | ${Math.round(of(name)).toLocaleString("en")} | ${ratio(name, "npm start, 1 worker")} | ${ratio(name, "gatsby serve")} |`,
        )
        console.log(rows.at(-1))
      }
    }
    const memory = names.map((name) => `| ${name} | ${rest[name]} |`)
    const tierRows = await tiers(site, env)
    writeBenchmarksSection(
      "workers",
      [
        `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- --workers\`: ${os.cpus().length} cores (the load generator shares them), Node ${process.version},`,
        `16 connections, ${ROUNDS} rounds of ${ROUND_SECONDS} s, the servers in turns; medians of the rounds, and of the rounds' ratios.`,
        "",
        "| page | server | req/s | ÷ 1 worker | ÷ gatsby serve |",
        "| --- | --- | ---: | ---: | ---: |",
        ...rows,
        "",
        `A kept page by where it comes from: ${ADDRESSES} addresses of /breeds/ a round (each a key of its own), ${CLIENTS} clients,`,
        `${ROUNDS / 4} rounds after one to warm up: rendered and kept by one server, then asked of a second, which finds them in the`,
        "shared store (a Redis of the lab's own), then asked of that one again, which has them in memory.",
        "",
        "| a kept page | req/s | ÷ rendered |",
        "| --- | ---: | ---: |",
        ...tierRows,
        "",
        "The whole server at rest (every process of it, VmRSS), started afresh:",
        "",
        "| server | MB |",
        "| --- | ---: |",
        ...memory,
      ].join("\n"),
    )
  } finally {
    for (const server of Object.values(servers)) await server.stop()
  }
}
