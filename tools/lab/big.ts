import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { freePort } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { bigSite, dsgPages } from "./big-site"
import { median } from "./load"
import { nginxInstalled, startNginx } from "./nginx"

// `npm run bench -- --pages N` (10000 by default; --pages 1000,10000,50000 for several): a generated
// site of N pages (big-site.ts) on `npm start` with one worker, on `gatsby serve` and, for its static
// pages, on nginx: how long each takes from start to the last page answering, its memory at rest and
// after a load, and its pace for random pages, kept deferred pages and unknown addresses (404), rounds
// in turns. What one worker holds, stage by stage, comes from memory-split.cjs. The load generator
// (paths-load.ts) and every server are processes of their own.

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3)
const STARTS = 3
// The deferred pages the loads ask for, rendered and kept before the load.
const KEPT_DSG = 500

type Server = { name: string; url: string; child: ChildProcess; stop(): Promise<void> }
type Loads = Record<string, number[]>

const nodeBin = (site: string) => path.join(site, "node_modules/gatsby-adapter-node/start.js")
const gatsbyCli = (site: string) => path.join(site, "node_modules/gatsby/cli.js")

// Resident memory of a process and every process under it, from Linux's /proc.
function treeRssMb(pid: number): number {
  const rss = (id: number) =>
    Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, "utf8"))![1]) / 1024
  const children = (id: number): number[] =>
    readFileSync(`/proc/${id}/task/${id}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number)
  const all = (id: number): number[] => [id, ...children(id).flatMap(all)]
  return Math.round(all(pid).reduce((sum, id) => sum + rss(id), 0))
}

// A server of the site, and the milliseconds from its start to its last page answering 200.
async function start(
  name: string,
  site: string,
  pages: number,
): Promise<{ server: Server; readyMs: number }> {
  const port = await freePort()
  const started = performance.now()
  const command =
    name === "npm start" ? [nodeBin(site)] : [gatsbyCli(site), "serve", "-H", "127.0.0.1", "-p", String(port)]
  const child = spawn(process.execPath, command, {
    cwd: site,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEB_CONCURRENCY: "1",
      GATSBY_TELEMETRY_DISABLED: "1",
    },
    stdio: "ignore",
    detached: true,
  })
  const url = `http://127.0.0.1:${port}`
  for (;;) {
    const status = await fetch(`${url}/posts/${pages - 1}/`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) break
    if (child.exitCode !== null) throw new Error(`${name} exited before it served`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const readyMs = performance.now() - started
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    process.kill(-child.pid!, "SIGTERM")
    await exited
  }
  return { server: { name, url, child, stop }, readyMs }
}

// Requests a second for `count` addresses made of `pattern`, in a process of its own.
function rate(
  url: string,
  pattern: string,
  count: number,
  seconds: number,
): { rps: number; statuses: Record<string, number> } {
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", "paths-load.ts", url, pattern, String(count), String(seconds)],
    { cwd: import.meta.dirname, encoding: "utf8" },
  )
  if (run.status !== 0) throw new Error(run.stderr)
  return JSON.parse(run.stdout.trim().split("\n").pop()!)
}

async function benchSize(pages: number): Promise<string[]> {
  const site = bigSite(pages)
  const names = ["npm start", "gatsby serve"]
  const ready: Record<string, number[]> = { "npm start": [], "gatsby serve": [] }
  // Starts in turns, the last server of each kind kept for the loads.
  const servers: Record<string, Server> = {}
  for (let n = 0; n < STARTS; n++) {
    for (const name of n % 2 ? [...names].reverse() : names) {
      const { server, readyMs } = await start(name, site, pages)
      ready[name].push(readyMs)
      if (n < STARTS - 1) await server.stop()
      else servers[name] = server
    }
  }
  const nginx = nginxInstalled() ? await startNginx(path.join(site, "public")) : undefined
  try {
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const rest = Object.fromEntries(names.map((name) => [name, treeRssMb(servers[name].child.pid!)]))
    // The first deferred page each server renders (Gatsby's engine loads for it on npm start), then
    // the ones the load asks for, rendered and kept.
    const kept = Math.min(KEPT_DSG, dsgPages(pages) - 1)
    const firstDsg: Record<string, number> = {}
    for (const name of names) {
      const started = performance.now()
      const first = await fetch(`${servers[name].url}/archive/${kept}/`)
      await first.text()
      if (first.status !== 200) throw new Error(`${name} answered ${first.status} for a deferred page`)
      firstDsg[name] = performance.now() - started
      for (let n = 0; n < kept; n++)
        await fetch(`${servers[name].url}/archive/${n}/`).then((res) => res.text())
    }
    const loads: Record<string, [string, number]> = {
      "random pages": ["/posts/#/", pages],
      "kept deferred pages": ["/archive/#/", kept],
      "unknown addresses (404)": ["/nope/#/", 1_000_000],
    }
    const runs: Record<string, Loads> = Object.fromEntries(Object.keys(loads).map((load) => [load, {}]))
    const targets: Record<string, string> = {
      ...Object.fromEntries(names.map((name) => [name, servers[name].url])),
      ...(nginx && { nginx: nginx.url }),
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [load, [pattern, count]] of Object.entries(loads)) {
        const order = Object.keys(targets).filter((name) => name !== "nginx" || load === "random pages")
        for (const name of round % 2 ? [...order].reverse() : order) {
          const { rps, statuses } = rate(targets[name], pattern, count, ROUND_SECONDS)
          // Every answer is what the load means: pages 200, unknown addresses 404.
          const expected = load.includes("404") ? "4xx" : "2xx"
          if (Object.keys(statuses).some((status) => status !== expected))
            throw new Error(`${name}, ${load}: ${JSON.stringify(statuses)}`)
          ;(runs[load][name] ??= []).push(rps)
        }
      }
    }
    const after = Object.fromEntries(names.map((name) => [name, treeRssMb(servers[name].child.pid!)]))
    const mb = (value: number) => `${Math.round(value)} MB`
    const ms = (value: number) => `${(value / 1000).toFixed(2)} s`
    const rows = [
      `| ${pages.toLocaleString("en")} pages + ${dsgPages(pages).toLocaleString("en")} DSG | npm start, 1 worker | gatsby serve | ÷ serve | nginx |`,
      "| --- | ---: | ---: | ---: | ---: |",
      `| from start to the last page answering (median of ${STARTS}) | ${ms(median(ready["npm start"]))} | ${ms(median(ready["gatsby serve"]))} | ${(median(ready["npm start"]) / median(ready["gatsby serve"])).toFixed(2)} | |`,
      `| RSS at rest | ${mb(rest["npm start"])} | ${mb(rest["gatsby serve"])} | ${(rest["npm start"] / rest["gatsby serve"]).toFixed(2)} | |`,
      `| the first deferred page (npm start: with Gatsby's engine loaded for it) | ${ms(firstDsg["npm start"])} | ${ms(firstDsg["gatsby serve"])} | | |`,
      `| RSS after the loads | ${mb(after["npm start"])} | ${mb(after["gatsby serve"])} | ${(after["npm start"] / after["gatsby serve"]).toFixed(2)} | |`,
      ...Object.keys(loads).map((load) => {
        const node = median(runs[load]["npm start"])
        const serve = median(runs[load]["gatsby serve"])
        const ngx = runs[load].nginx ? Math.round(median(runs[load].nginx)).toLocaleString("en") : ""
        return `| ${load}, req/s (median of ${ROUNDS} rounds of ${ROUND_SECONDS} s) | ${Math.round(node).toLocaleString("en")} | ${Math.round(serve).toLocaleString("en")} | ${(node / serve).toFixed(2)} | ${ngx} |`
      }),
    ]
    console.log(rows.join("\n"))
    return rows
  } finally {
    for (const server of Object.values(servers)) await server.stop()
    nginx?.stop()
  }
}

// What one worker of the site holds, stage by stage (memory-split.cjs), in a process of its own.
function split(pages: number): string[] {
  const site = bigSite(pages)
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", path.join(import.meta.dirname, "memory-split.cjs"), site],
    {
      encoding: "utf8",
    },
  )
  if (run.status !== 0) throw new Error(run.stderr)
  return run.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as { stage: string; heapMb: number; rssMb: number; ms: number })
    .map(
      ({ stage, heapMb, rssMb, ms }) =>
        `| ${pages.toLocaleString("en")} | ${stage} | ${heapMb.toFixed(0)} | ${rssMb.toFixed(0)} | ${ms.toFixed(0)} |`,
    )
}

export async function benchPages(sizes: number[]): Promise<void> {
  const tables: string[] = []
  const stages = [
    "| pages | stage | heap MB after it | RSS MB after it | ms |",
    "| ---: | --- | ---: | ---: | ---: |",
  ]
  for (const pages of sizes) {
    tables.push(...(await benchSize(pages)), "")
    stages.push(...split(pages))
  }
  writeBenchmarksSection(
    `pages-${sizes.join("-")}`,
    [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench -- --pages ${sizes.join(",")}\`: ${os.cpus().length} cores, Node ${process.version}; generated sites (tools/lab/big-site.ts), one worker; nginx serves the static pages alone, as a reference rate of this machine in the same run.`,
      "",
      ...tables,
      "What one worker holds, stage by stage as createServer loads it (tools/lab/memory-split.cjs, after a full collection each):",
      "",
      ...stages,
    ].join("\n"),
  )
}
