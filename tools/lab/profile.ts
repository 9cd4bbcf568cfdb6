import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { SourceMap } from "node:module"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import autocannon from "autocannon"
import { startStandInApi } from "../stand-in-api/server"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { startSite } from "test-harness"
import { buildIfNeeded, root } from "./site"

// `npm run profile`: where the time of a request for /ssr/ goes. gatsby serve runs under
// node --cpu-prof while 16 connections ask for /ssr/ (the stand-in API answers at once); each
// sample's function is traced back through the engine's source maps to the file it came from.

const SECONDS = 10
const WARM_UP_SECONDS = 2

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number }
type Profile = {
  nodes: { id: number; callFrame: CallFrame }[]
  startTime: number
  samples: number[]
  timeDeltas: number[]
}

const maps = new Map<string, SourceMap | null>()

function sourceMap(file: string): SourceMap | null {
  if (!maps.has(file)) {
    const map = `${file}.map`
    maps.set(file, existsSync(map) ? new SourceMap(JSON.parse(readFileSync(map, "utf8"))) : null)
  }
  return maps.get(file)!
}

// The file a function came from: its source, for code that Gatsby bundled into the engine.
function origin({ url, lineNumber, columnNumber }: CallFrame): string {
  if (!url.startsWith("file://")) return url
  const file = fileURLToPath(url)
  // An empty entry, or none, when the map has no mapping there.
  const entry = sourceMap(file)?.findEntry(lineNumber, columnNumber) as
    { originalSource?: string } | undefined
  return entry?.originalSource ?? file
}

// Native functions have no file: these are the HTTP server's (file checks, socket writes, ETags).
const serverNatives = new Set([
  "stat",
  "writev",
  "writeLatin1String",
  "writeUtf8String",
  "writeBuffer",
  "Hash",
])

// The order matters: the first test that matches names the share.
const shares: [string, (source: string, name: string) => boolean][] = [
  ["ours (src/: pages, dog-api, breed)", (s) => /(^|\/)src\//.test(s) && !s.includes("node_modules")],
  ["React rendering to HTML", (s) => /node_modules\/(react|react-dom|scheduler)\//.test(s)],
  // Includes the AbortSignal.timeout that bounds each of our requests.
  ["fetch and its timeout signal", (s) => /undici|abort_controller|js_transferable|domexception/.test(s)],
  ["Gatsby's engine and server", (s) => /gatsby|\.cache\/|@gatsbyjs|@reach|webpack/.test(s)],
  [
    "HTTP server (Node, express, compression)",
    (s, name) =>
      serverNatives.has(name) ||
      /express|compression|_http_|node:net|streams|send|serve-static|parseurl|etag/.test(s),
  ],
  ["garbage collection", (_s, name) => name === "(garbage collector)"],
  ["other Node internals (events, timers, microtasks)", (s) => s.startsWith("node:") || s === ""],
]

function analyse(profile: Profile, skipMicroseconds: number): Map<string, number> {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))
  const totals = new Map<string, number>()
  let time = profile.startTime
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i]
    const frame = nodes.get(id)!
    if (time - profile.startTime < skipMicroseconds || frame.functionName === "(idle)") return
    const source = origin(frame)
    const share = shares.find(([, test]) => test(source, frame.functionName))?.[0] ?? "other modules"
    totals.set(share, (totals.get(share) ?? 0) + profile.timeDeltas[i])
  })
  return totals
}

async function main(): Promise<void> {
  buildIfNeeded()
  const dir = mkdtempSync(path.join(os.tmpdir(), "ssr-profile-"))
  const api = await startStandInApi()
  const started = Date.now()
  const site = await startSite(root, "serve", {
    env: { DOG_API_URL: api.apiUrl },
    nodeOptions: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  })
  let requests = 0
  try {
    await autocannon({ url: `${site.url}/ssr/`, connections: 16, duration: WARM_UP_SECONDS })
    const skip = (Date.now() - started) * 1000
    const result = await autocannon({ url: `${site.url}/ssr/`, connections: 16, duration: SECONDS })
    requests = result.requests.total
    await site.stop()

    const [file] = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"))
    const totals = analyse(JSON.parse(readFileSync(path.join(dir, file), "utf8")), skip)
    const busy = [...totals.values()].reduce((sum, t) => sum + t, 0)
    const rows = [...totals.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(
        ([share, t]) => `| ${share} | ${((t / busy) * 100).toFixed(1)}% | ${(t / requests).toFixed(0)} µs |`,
      )
    const report = [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run profile\`: \`gatsby serve\` under \`node --cpu-prof\`,`,
      `${requests} requests for /ssr/ in ${SECONDS} s from 16 connections, the API answering at once. Shares of busy CPU time`,
      "(idle left out), by the source file of each sample's function:",
      "",
      "| where | share | CPU per request |",
      "| --- | ---: | ---: |",
      ...rows,
    ].join("\n")
    console.log(`\n${report}\n`)
    writeBenchmarksSection("profile", report)
  } finally {
    await site.stop()
    await api.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
