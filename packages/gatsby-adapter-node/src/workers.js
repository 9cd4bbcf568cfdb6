// @ts-check
// WEB_CONCURRENCY worker processes on one port (node:cluster): this primary forks them, and its
// connections go to a worker whose event loop is free in turn (cluster's round-robin; npm run bench's
// A/B held it against reusePort, where the kernel hashes each connection to a process whatever its
// load). It serves no request itself. A worker that dies is replaced, after a pause that doubles with
// each death (as PM2 does); a worker that dies before it ever served, or deaths that come too often,
// stop the server with a message saying so (exit code 1). SIGTERM or SIGINT: each worker finishes its
// requests in flight within SHUTDOWN_DEADLINE_MS (start.js), then the primary exits, with 1 if a
// worker had to drop any. With METRICS_PORT, the primary serves one /metrics for all workers
// (prom-client's AggregatorRegistry).
// (Node gives cluster itself as the module, which its types call the module's default.)
const cluster = /** @type {import("node:cluster").Cluster} */ (
  /** @type {unknown} */ (require("node:cluster"))
)

/**
 * @typedef {{ workers: number, shutdownDeadlineMs: number, metricsPort: number | undefined, host: string }} PrimarySettings
 * @typedef {{ type: "shutdown" }} ShutdownMessage what the primary tells a worker: finish, then exit
 */

// Deaths this close together, this many times, stop the server: a worker that keeps dying would
// otherwise be restarted for ever.
const DEATHS_WINDOW_MS = 60_000
const MAX_DEATHS = 5
// The pause before a dead worker's replacement: doubled at each death within the window, to at most this.
const FIRST_RESTART_MS = 100
const MAX_RESTART_MS = 10_000
// After the workers' own deadline, what they still hold is killed.
const KILL_GRACE_MS = 2_000

const SHUTDOWN = /** @type {ShutdownMessage} */ ({ type: "shutdown" })

/**
 * Runs the primary until every worker has exited; resolves with the process's exit code.
 * @param {PrimarySettings} settings
 * @param {import("pino").Logger} logger
 * @returns {Promise<number>}
 */
function runPrimary({ workers, shutdownDeadlineMs, metricsPort, host }, logger) {
  /** @type {number[]} when workers died, for the last DEATHS_WINDOW_MS */
  let deaths = []
  let stopping = false
  let exitCode = 0
  /** @type {Set<number>} the ids of the workers that have listened */
  const served = new Set()
  let announced = false
  const metricsListener = metricsPort === undefined ? undefined : clusterMetricsServer()

  const stop = (/** @type {string} */ why, /** @type {number} */ code) => {
    if (stopping) return
    stopping = true
    exitCode = Math.max(exitCode, code)
    logger.info(why)
    metricsListener?.close()
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send(SHUTDOWN)
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGKILL")
    }, shutdownDeadlineMs + KILL_GRACE_MS).unref()
  }

  // The workers take no signal themselves (start.js): the primary tells them, once, whatever sent
  // the signal to whom (a terminal's Ctrl-C reaches the whole group; docker stop, the primary alone).
  for (const signal of /** @type {const} */ (["SIGTERM", "SIGINT"]))
    process.on(signal, () => stop(`${signal}: the workers finish the requests in flight, then exit`, 0))

  cluster.on("listening", (worker, address) => {
    served.add(worker.id)
    if (served.size === workers && !stopping && !announced) announce(address)
  })
  /** @param {import("node:cluster").Address} address */
  const announce = ({ port: actual }) => {
    announced = true
    const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host
    logger.info(
      `Serving the built site on http://${shown}:${actual}/ (HOST=${host}, PORT=${actual}), in ${workers} workers (WEB_CONCURRENCY=${workers})`,
    )
    if (metricsListener)
      metricsListener.listen(metricsPort, host, () => {
        const { port: at } = /** @type {import("node:net").AddressInfo} */ (metricsListener.address())
        logger.info(`Prometheus metrics of every worker on http://${host}:${at}/metrics (METRICS_PORT=${at})`)
      })
  }

  cluster.on("exit", (worker, code, signal) => {
    const how = signal ? `signal ${signal}` : `code ${code}`
    if (stopping) {
      if (code !== 0) exitCode = 1
      return
    }
    if (!served.has(worker.id)) {
      return stop(
        `worker ${worker.id} exited (${how}) before it served (its lines above say why): stopping`,
        1,
      )
    }
    const now = Date.now()
    deaths = [...deaths.filter((at) => now - at < DEATHS_WINDOW_MS), now]
    if (deaths.length >= MAX_DEATHS) {
      return stop(
        `workers keep dying (${deaths.length} in ${DEATHS_WINDOW_MS / 1000} s, the last: worker ${worker.id}, ${how}): stopping`,
        1,
      )
    }
    const pause = Math.min(FIRST_RESTART_MS * 2 ** (deaths.length - 1), MAX_RESTART_MS)
    logger.error(`worker ${worker.id} exited (${how}); a new one in ${pause} ms`)
    setTimeout(() => !stopping && cluster.fork(), pause)
  })

  for (let i = 0; i < workers; i++) cluster.fork()
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
  process.on("message", (/** @type {unknown} */ message) => {
    if (/** @type {ShutdownMessage} */ (message)?.type === SHUTDOWN.type) once()
  })
  process.on("disconnect", once)
}

// /metrics of every worker, summed (prom-client's AggregatorRegistry asks each over IPC).
function clusterMetricsServer() {
  const { AggregatorRegistry } = require("prom-client")
  const { metricsServer } = require("./metrics")
  const aggregator = new AggregatorRegistry()
  return metricsServer(() => aggregator.clusterMetrics(), aggregator.contentType)
}

module.exports = { runPrimary, onPrimaryShutdown }
