import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import os from "node:os"
import { startSite, usesNodeAdapter, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { buildIfNeeded, root } from "./site"
import { startUpstream } from "./upstream-process"

// `npm run overload`: far more clients than the Node server (gatsby-adapter-node) can serve, against /ssr/
// while the dog API flaps (answers, hangs, fails, in turn), with load shedding off and on, in turns.
// What a client sees: how many got a page, a quick 503, or nothing within the timeout.

const CONNECTIONS = Number(process.env.OVERLOAD_CONNECTIONS ?? 1000)
const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 20)
const ROUNDS = Number(process.env.OVERLOAD_ROUNDS ?? 2)
// A client gives up after this long, as a browser or a load balancer would.
const TIMEOUT_SECONDS = 15
const FLAP_MS = 2000
const FLAPS = ["ok", "hang", "http-500"]
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
function overload(url: string, flap: (mode: string) => void): Promise<Run> {
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
  const flapper = setInterval(() => flap(FLAPS[++turn % FLAPS.length]), FLAP_MS)
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
    : { "shedding off": { MAX_EVENT_LOOP_DELAY_MS: "0" }, "shedding on (defaults)": {} }
  const servers: Record<string, RunningServer> = {}
  const runs: Record<string, Run[]> = {}
  try {
    for (const [name, env] of Object.entries(setups)) {
      servers[name] = await startSite(root, "node", { env: { DOG_API_URL: upstream.apiUrl, ...env } })
      runs[name] = []
    }
    const names = Object.keys(setups)
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of round % 2 ? names : [...names].reverse()) {
        const run = await overload(`${servers[name].url}/ssr/`, upstream.set)
        runs[name].push(run)
        console.log(`${name.padEnd(24)} ${JSON.stringify(run)}`)
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
      `(tools/lab/upstream.ts) ${FLAPS.join(", then ")} by turns of ${FLAP_MS / 1000} s; the setups in turns, ${ROUNDS} rounds.`,
      "",
      "| setup | round | 200 | 503 (shed) | other errors | timeouts | p50 ms | p99 ms | max ms |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
    ].join("\n"),
  )
}

await main()
