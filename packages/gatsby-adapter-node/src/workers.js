// @ts-check
// WEB_CONCURRENCY worker processes on one port (node:cluster): this primary forks them, and its
// connections go to a worker whose event loop is free in turn (cluster's round-robin; npm run bench's
// A/B held it against reusePort, where the kernel hashes each connection to a process whatever its
// load). It serves no request itself. A worker that dies after it served is replaced, for ever, after a
// pause that doubles with each death in the last minute up to 10 s (PM2's backoff), and counted in
// /metrics; the server stops (exit code 1), saying why in one line, only when it cannot start: a
// worker that says why it could not (a port in use, no build), one of the first workers dying before
// any served, or five new workers in a row dying before they served. SIGTERM or SIGINT: each worker
// finishes its requests in flight within SHUTDOWN_DEADLINE_MS (start.js), then the primary exits, with
// 1 if a worker had to drop any; a stop asked for during start is a clean one. With METRICS_PORT, the
// primary serves one /metrics for all workers (prom-client's AggregatorRegistry). And a page's API that
// one worker finds back after an outage is announced to the others (relayRecoveries).
// (Node gives cluster itself as the module, which its types call the module's default.)
const cluster = /** @type {import("node:cluster").Cluster} */ (
  /** @type {unknown} */ (require("node:cluster"))
)
const diagnosticsChannel = require("node:diagnostics_channel")

/**
 * @typedef {{ workers: number, workersWhy: string, shutdownDeadlineMs: number, metricsPort: number | undefined, host: string }} PrimarySettings
 * @typedef {{ type: "shutdown" } | { type: "start-failed", reason: string } | { type: "upstream-recovered", api: unknown }} Message
 *   what the primary and its workers tell each other: finish, then exit; I could not start, and why;
 *   a page found this API back
 * @typedef {{ signal: NodeJS.Signals | undefined, then?: (signal: NodeJS.Signals) => void }} StopAsked
 */

// Deaths in this window make the pause before a replacement longer.
const DEATHS_WINDOW_MS = 60_000
// The pause before a dead worker's replacement: doubled at each death within the window, to at most this.
const FIRST_RESTART_MS = 100
const MAX_RESTART_MS = 10_000
// New workers in a row that die before they serve (killed as they start, say) stop the server.
const MAX_FAILED_STARTS = 5
// After the workers' own deadline, what they still hold is killed.
const KILL_GRACE_MS = 2_000
// A site's page publishes { api } here when its breaker closes again after the API failed (the site's
// src/upstream/client.ts does); the other workers' pages hear it on RECOVERED_ELSEWHERE.
const RECOVERED = "gatsby-adapter-node:upstream-recovered"
const RECOVERED_ELSEWHERE = "gatsby-adapter-node:upstream-recovered-elsewhere"

/** @type {Message} */
const SHUTDOWN = { type: "shutdown" }

/**
 * Runs the primary until every worker has exited; resolves with the process's exit code.
 * @param {PrimarySettings} settings
 * @param {import("pino").Logger} logger
 * @param {StopAsked} stopAsked a signal received before this ran, and where to tell of later ones
 * @returns {Promise<number>}
 */
function runPrimary({ workers, workersWhy, shutdownDeadlineMs, metricsPort, host }, logger, stopAsked) {
  /** @type {number[]} when workers died after serving, for the last DEATHS_WINDOW_MS */
  let deaths = []
  let failedStarts = 0
  let stopping = false
  let exitCode = 0
  /** @type {Set<number>} the ids of the workers that have listened */
  const served = new Set()
  let announced = false
  const metrics = metricsPort === undefined ? undefined : clusterMetrics()

  /** @param {import("node:cluster").Worker} worker @param {Message} message */
  const tell = (worker, message) => {
    // A worker on its way out has no channel left; it needs no word.
    if (worker.isConnected()) worker.send(message, () => {})
  }

  /** @param {string} why @param {number} code @param {"info" | "error"} level */
  const stop = (why, code, level = "info") => {
    if (stopping) return
    stopping = true
    exitCode = Math.max(exitCode, code)
    // A start that failed is said in one plain line, as a single process says it.
    if (level === "error") console.error(why)
    else logger.info(why)
    metrics?.listener.close()
    for (const worker of Object.values(cluster.workers ?? {})) if (worker) tell(worker, SHUTDOWN)
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL")
    }, shutdownDeadlineMs + KILL_GRACE_MS).unref()
  }

  // The workers take no signal themselves (start.js): the primary tells them, once, whatever sent
  // the signal to whom (a terminal's Ctrl-C reaches the whole group; docker stop, the primary alone).
  const onSignal = (/** @type {NodeJS.Signals} */ signal) =>
    stop(`${signal}: the workers finish the requests in flight, then exit`, 0)
  stopAsked.then = onSignal

  cluster.on("listening", (worker, address) => {
    served.add(worker.id)
    failedStarts = 0
    if (served.size === workers && !stopping && !announced) announce(address)
  })
  /** @param {import("node:cluster").Address} address */
  const announce = ({ port: actual }) => {
    announced = true
    const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host
    logger.info(
      `Serving the built site on http://${shown}:${actual}/ (HOST=${host}, PORT=${actual}), in ${workers} workers (${workersWhy})`,
    )
    if (metrics)
      metrics.listener.listen(metricsPort, host, () => {
        const { port: at } = /** @type {import("node:net").AddressInfo} */ (metrics.listener.address())
        logger.info(`Prometheus metrics of every worker on http://${host}:${at}/metrics (METRICS_PORT=${at})`)
      })
  }

  cluster.on("message", (worker, /** @type {Message} */ message) => {
    if (message?.type === "start-failed") stop(message.reason, 1, "error")
    if (message?.type === "upstream-recovered") {
      for (const other of Object.values(cluster.workers ?? {}))
        if (other && other !== worker) tell(other, message)
    }
  })

  cluster.on("exit", (worker, code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`
    if (stopping) {
      // A worker that had to drop requests, but not one that the group's signal reached before it
      // could take any (it ignores signals from its first moments on).
      if (code !== 0 && signal !== "SIGTERM" && signal !== "SIGINT") exitCode = 1
      return
    }
    if (!served.has(worker.id)) {
      if (served.size === 0)
        return stop(
          `worker ${worker.id} exited (${how}) before it served (its lines above say why): stopping`,
          1,
        )
      if (++failedStarts >= MAX_FAILED_STARTS)
        return stop(
          `${failedStarts} new workers in a row exited before they served (the last: ${how}): stopping`,
          1,
        )
    }
    const now = Date.now()
    deaths = [...deaths.filter((at) => now - at < DEATHS_WINDOW_MS), now]
    const pause = Math.min(FIRST_RESTART_MS * 2 ** (deaths.length - 1), MAX_RESTART_MS)
    metrics?.replaced.inc()
    logger.error(`worker ${worker.id} exited (${how}); a new one in ${pause} ms`)
    setTimeout(() => !stopping && cluster.fork(), pause)
  })

  for (let i = 0; i < workers; i++) cluster.fork()
  if (stopAsked.signal) onSignal(stopAsked.signal)
  return new Promise((resolve) => {
    cluster.on("exit", () => {
      if (Object.keys(cluster.workers ?? {}).length === 0 && stopping) resolve(exitCode)
    })
  })
}

/**
 * In a worker: calls `shutdown` once when the primary says so, or goes away (a primary killed
 * without a word leaves its workers no one to answer to).
 * @param {() => void} shutdown
 */
function onPrimaryShutdown(shutdown) {
  let called = false
  const once = () => {
    if (called) return
    called = true
    shutdown()
  }
  process.on("message", (/** @type {Message} */ message) => {
    if (message?.type === SHUTDOWN.type) once()
  })
  process.on("disconnect", once)
}

/**
 * In a worker that could not start: tells the primary why, which says it once for all workers, then
 * `exit`.
 * @param {string} reason @param {() => void} exit
 */
function reportStartFailure(reason, exit) {
  if (!process.send || !process.connected) return exit()
  process.send(/** @type {Message} */ ({ type: "start-failed", reason }), () => exit())
}

/**
 * In a worker: a page's API that this worker's pages found back after an outage is announced to the
 * other workers, through the primary, and theirs to this one's pages, so that no worker keeps failing
 * fast on an API that another already reaches (each page's circuit breaker is its process's own).
 */
function relayRecoveries() {
  diagnosticsChannel.subscribe(RECOVERED, (message) => {
    const api = /** @type {{ api?: unknown }} */ (message)?.api
    if (process.connected)
      process.send?.(/** @type {Message} */ ({ type: "upstream-recovered", api }), () => {})
  })
  const elsewhere = diagnosticsChannel.channel(RECOVERED_ELSEWHERE)
  process.on("message", (/** @type {Message} */ message) => {
    if (message?.type === "upstream-recovered") elsewhere.publish({ api: message.api })
  })
}

// /metrics of every worker, summed (prom-client's AggregatorRegistry asks each over IPC), and the
// primary's own: the workers it replaced.
function clusterMetrics() {
  const { AggregatorRegistry, Counter, Registry } = require("prom-client")
  const { metricsServer } = require("./metrics")
  const aggregator = new AggregatorRegistry()
  const own = new Registry()
  const replaced = new Counter({
    name: "workers_replaced_total",
    help: "Workers that died after they served, and were replaced",
    registers: [own],
  })
  const listener = metricsServer(
    async () => `${await aggregator.clusterMetrics()}\n${await own.metrics()}`,
    aggregator.contentType,
  )
  return { listener, replaced }
}

module.exports = { runPrimary, onPrimaryShutdown, reportStartFailure, relayRecoveries }
