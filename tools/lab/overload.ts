import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import os from "node:os"
import { startSite, usesNodeAdapter, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { buildIfNeeded, root } from "./site"
import { startUpstream } from "./upstream-process"

// `npm run overload`: far more clients than the Node server (gatsby-adapter-node) can serve, against /ssr/
// while the dog API flaps (answers, hangs, fails, in turn), and while it hangs throughout, with the
// server's bounds off, with the event-loop bound alone (the defaults before MAX_IN_FLIGHT), and with
// its defaults, in turns. What a client sees: how many got a page, a quick 503, or nothing within the
// timeout.

const CONNECTIONS = Number(process.env.OVERLOAD_CONNECTIONS ?? 1000)
const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 20)
const ROUNDS = Number(process.env.OVERLOAD_ROUNDS ?? 2)
// A client gives up after this long, as a browser or a load balancer would.
const TIMEOUT_SECONDS = 10
const FLAP_MS = 2000
// The upstream's turns: answering, hanging, failing; or hanging throughout.
const UPSTREAMS: Record<string, string[]> = { flapping: ["ok", "hang", "http-500"], hanging: ["hang"] }
const autocannonCli = createRequire(import.meta.url).resolve("autocannon/autocannon.js")

type Run = {
  ok: number
  shed: number
  otherErrors: number
  timeouts: number
  p50: number
  p99: number
  max: number
}

// autocannon in a process of its own, while this one makes the upstream flap.
function overload(url: string, flaps: string[], flap: (mode: string) => void): Promise<Run> {
  const child = spawn(
    process.execPath,
    [
      autocannonCli,
      "--json",
      "-c",
      String(CONNECTIONS),
      "-d",
      String(SECONDS),
      "-t",
      String(TIMEOUT_SECONDS),
      url,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  )
  let out = ""
  child.stdout.on("data", (chunk) => (out += chunk))
  let turn = 0
  flap(flaps[0])
  const flapper = setInterval(() => flap(flaps[++turn % flaps.length]), FLAP_MS)
  return new Promise((resolve, reject) =>
    child.once("exit", () => {
      clearInterval(flapper)
      flap("ok")
      try {
        const result = JSON.parse(out)
        const counts: Record<string, { count: number }> = result.statusCodeStats ?? {}
        const count = (code: string) => counts[code]?.count ?? 0
        const answered = Object.values(counts).reduce((sum, { count: n }) => sum + n, 0)
        resolve({
          ok: count("200"),
          shed: count("503"),
          otherErrors: answered - count("200") - count("503"),
          timeouts: result.timeouts,
          p50: result.latency.p50,
          p99: result.latency.p99,
          max: result.latency.max,
        })
      } catch (error) {
        reject(error)
      }
    }),
  )
}

async function main(): Promise<void> {
  if (!usesNodeAdapter(root)) throw new Error("npm run overload measures gatsby-adapter-node's server")
  buildIfNeeded()
  const upstream = await startUpstream()
  // OVERLOAD_DELAYS=0,200 compares bounds of the event-loop delay (MAX_EVENT_LOOP_DELAY_MS; 0: off).
  const delays = process.env.OVERLOAD_DELAYS?.split(",")
  const setups: Record<string, NodeJS.ProcessEnv> = delays
    ? Object.fromEntries(
        delays.map((ms) => [`MAX_EVENT_LOOP_DELAY_MS=${ms}`, { MAX_EVENT_LOOP_DELAY_MS: ms }]),
      )
    : {
        "no bounds": { MAX_EVENT_LOOP_DELAY_MS: "0", MAX_IN_FLIGHT: "0" },
        "event-loop bound alone": { MAX_IN_FLIGHT: "0" },
        defaults: {},
      }
  const servers: Record<string, RunningServer> = {}
  const runs: Record<string, Run[]> = {}
  try {
    for (const [name, env] of Object.entries(setups)) {
      servers[name] = await startSite(root, "node", { env: { DOG_API_URL: upstream.apiUrl, ...env } })
    }
    const names = Object.keys(setups)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of round % 2 ? names : [...names].reverse()) {
        for (const [upstreamName, flaps] of Object.entries(UPSTREAMS)) {
          const run = await overload(`${servers[name].url}/ssr/`, flaps, upstream.set)
          ;(runs[`${name} | ${upstreamName}`] ??= []).push(run)
          console.log(`${name.padEnd(24)} ${upstreamName.padEnd(9)} ${JSON.stringify(run)}`)
        }
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop()
    upstream.stop()
  }
  const rows = Object.entries(runs).flatMap(([name, list]) =>
    list.map(
      (r, i) =>
        `| ${name} | ${i + 1} | ${r.ok} | ${r.shed} | ${r.otherErrors} | ${r.timeouts} | ${r.p50} | ${r.p99} | ${r.max} |`,
    ),
  )
  writeBenchmarksSection(
    "overload",
    [
      `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run overload\`: ${os.cpus().length} cores, Node ${process.version},`,
      `${CONNECTIONS} connections for ${SECONDS} s against /ssr/ on \`npm start\`, clients giving up after ${TIMEOUT_SECONDS} s, the upstream`,
      `(tools/lab/upstream.ts) flapping (${UPSTREAMS.flapping.join(", then ")} by turns of ${FLAP_MS / 1000} s) or hanging throughout; the setups in turns, ${ROUNDS} rounds.`,
      "",
      "| setup | upstream | round | 200 | 503 (shed) | other errors | timeouts | p50 ms | p99 ms | max ms |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ].join("\n"),
  )
}

await main()
