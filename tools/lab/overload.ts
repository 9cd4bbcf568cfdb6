import { spawn, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import os from "node:os"
import { freePort, startSite, usesNodeAdapter, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { buildIfNeeded, root } from "./site"
import { startUpstream } from "./upstream-process"

// `npm run overload`: far more clients than the Node server (gatsby-adapter-node) can serve, against /ssr/
// while the dog API flaps (answers, hangs, fails, in turn), and while it hangs throughout, with the
// server's bounds off, with the event-loop bound alone (the defaults before MAX_IN_FLIGHT), and with
// its defaults, in turns. What a client sees: how many got a page, a quick 503, or nothing within the
// timeout.
// `npm run overload -- --tail`: where the requests that get no answer within the timeout wait, with a
// healthy API and a flapping one: each run also counts the connections the system dropped because the
// server's listen backlog was full (its SYNs are then retried after 1, 3, 7 s...), the answers the
// server itself took over 10 s for (its metrics), and the load generator's own CPU; against gatsby
// serve, npm start with Node's backlog (511) and with its own (4096), and npm start with the generator
// on a core of its own (taskset), which tells a starved generator from a slow server.

const CONNECTIONS = Number(process.env.OVERLOAD_CONNECTIONS ?? 1000)
const SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 20)
const ROUNDS = Number(process.env.OVERLOAD_ROUNDS ?? 2)
// A client gives up after this long, as a browser or a load balancer would.
const TIMEOUT_SECONDS = 10
const FLAP_MS = 2000
// The upstream's turns: answering, hanging, failing; or hanging throughout.
const UPSTREAMS: Record<string, string[]> = {
  flapping: ["ok", "hang", "http-500"],
  hanging: ["hang"],
  healthy: ["ok"],
}
const autocannonCli = createRequire(import.meta.url).resolve("autocannon/autocannon.js")

type Run = {
  ok: number
  // The system's ListenOverflows during the run: handshakes dropped with the accept queue full.
  overflows: number
  // CPU time of the load generator ÷ the run's time.
  generatorCpu: number
  shed: number
  otherErrors: number
  timeouts: number
  p50: number
  p99: number
  max: number
}

// TcpExt's ListenOverflows, from Linux's /proc.
function listenOverflows(): number {
  const [names, values] = readFileSync("/proc/net/netstat", "utf8")
    .split("\n")
    .filter((line) => line.startsWith("TcpExt:"))
    .map((line) => line.split(/\s+/))
  return Number(values[names.indexOf("ListenOverflows")])
}

// A process's CPU time so far (user and system), in seconds, from Linux's /proc.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ")
  return (Number(fields[11]) + Number(fields[12])) / 100
}

// autocannon in a process of its own (on one core, given `core`), while this one makes the upstream flap.
function overload(
  url: string,
  flaps: string[],
  flap: (mode: string) => void,
  { core }: { core?: number } = {},
): Promise<Run> {
  const overflowsBefore = listenOverflows()
  const started = Date.now()
  const child = spawn(
    core === undefined ? process.execPath : "taskset",
    [
      ...(core === undefined ? [] : ["-c", String(core), process.execPath]),
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
  // Read while it runs: its /proc entry goes when it exits.
  let generatorSeconds = 0
  const sampler = setInterval(() => {
    try {
      generatorSeconds = cpuSeconds(child.pid!)
    } catch {
      // It has exited.
    }
  }, 250)
  return new Promise((resolve, reject) =>
    child.once("exit", () => {
      clearInterval(flapper)
      clearInterval(sampler)
      flap("ok")
      try {
        const result = JSON.parse(out)
        const counts: Record<string, { count: number }> = result.statusCodeStats ?? {}
        const count = (code: string) => counts[code]?.count ?? 0
        const answered = Object.values(counts).reduce((sum, { count: n }) => sum + n, 0)
        resolve({
          ok: count("200"),
          overflows: listenOverflows() - overflowsBefore,
          generatorCpu: generatorSeconds / ((Date.now() - started) / 1000),
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

// Answers the server itself took more than 10 s for, of every kind, from its Prometheus metrics.
async function answersOver10s(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text()
  const sumOf = (pattern: RegExp) =>
    [...text.matchAll(pattern)].reduce((total, [, value]) => total + Number(value), 0)
  return (
    sumOf(/^http_request_duration_seconds_count\{[^}]*\} (\d+)$/gm) -
    sumOf(/^http_request_duration_seconds_bucket\{le="10",[^}]*\} (\d+)$/gm)
  )
}

type TailSetup = {
  name: string
  mode: "serve" | "node"
  env?: NodeJS.ProcessEnv
  // The server on core 0 and the generator on the core given, rather than where the system puts them.
  generatorCore?: number
  upstreams: string[]
}

// Where the unanswered requests wait (see the top of this file): one run per setup, upstream and
// number of connections, the setups in turns.
async function tail(upstream: Awaited<ReturnType<typeof startUpstream>>): Promise<string[]> {
  const both = Object.keys(UPSTREAMS).filter((name) => name !== "hanging")
  const setups: TailSetup[] = [
    { name: "gatsby serve", mode: "serve", upstreams: both },
    {
      name: "npm start, backlog 511 (Node's)",
      mode: "node",
      env: { LISTEN_BACKLOG: "511" },
      upstreams: both,
    },
    { name: "npm start", mode: "node", upstreams: both },
    {
      name: "npm start on core 0, generator too",
      mode: "node",
      generatorCore: 0,
      upstreams: ["healthy"],
    },
    {
      name: "npm start on core 0, generator on 1",
      mode: "node",
      generatorCore: 1,
      upstreams: ["healthy"],
    },
  ]
  const rows: string[] = []
  for (const setup of setups) {
    const metricsPort = setup.mode === "node" ? String(await freePort()) : undefined
    const server = await startSite(root, setup.mode, {
      env: { DOG_API_URL: upstream.apiUrl, ...setup.env, ...(metricsPort && { METRICS_PORT: metricsPort }) },
    })
    try {
      if (setup.generatorCore !== undefined) spawnSync("taskset", ["-a", "-p", "-c", "0", String(server.pid)])
      for (const upstreamName of setup.upstreams) {
        const slowBefore = metricsPort ? await answersOver10s(`http://127.0.0.1:${metricsPort}/metrics`) : 0
        const run = await overload(`${server.url}/ssr/`, UPSTREAMS[upstreamName], upstream.set, {
          core: setup.generatorCore,
        })
        const slow = metricsPort
          ? String((await answersOver10s(`http://127.0.0.1:${metricsPort}/metrics`)) - slowBefore)
          : "(no metrics)"
        console.log(
          `${setup.name.padEnd(36)} ${upstreamName.padEnd(9)} ${JSON.stringify(run)} over 10 s: ${slow}`,
        )
        rows.push(
          `| ${setup.name} | ${upstreamName} | ${run.ok} | ${run.shed} | ${run.otherErrors} | **${run.timeouts}** | ${run.max} | ${run.overflows} | ${slow} | ${run.generatorCpu.toFixed(2)} |`,
        )
      }
    } finally {
      await server.stop()
    }
  }
  return rows
}

async function main(): Promise<void> {
  if (!usesNodeAdapter(root)) throw new Error("npm run overload measures gatsby-adapter-node's server")
  buildIfNeeded()
  const upstream = await startUpstream()
  if (process.argv.includes("--tail")) {
    try {
      const rows = await tail(upstream)
      writeBenchmarksSection(
        "overload-tail",
        [
          `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run overload -- --tail\`: ${os.cpus().length} cores, Node ${process.version}, /ssr/ for ${SECONDS} s,`,
          `clients giving up after ${TIMEOUT_SECONDS} s; the upstream answering at once (healthy) or by turns of ${FLAP_MS / 1000} s answering, hanging and failing`,
          "(flapping). Dropped: handshakes the system dropped with the server's accept queue full; over 10 s: answers the",
          "server itself took that long for (its metrics); generator: the load generator's CPU ÷ the run's time.",
          "",
          "| setup | upstream | 200 | 503 | other | unanswered in 10 s | max ms | dropped handshakes | over 10 s (server) | generator CPU |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
          ...rows,
        ].join("\n"),
      )
    } finally {
      upstream.stop()
    }
    return
  }
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
        for (const upstreamName of ["flapping", "hanging"]) {
          const flaps = UPSTREAMS[upstreamName]
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
