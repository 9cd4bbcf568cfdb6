#!/usr/bin/env node
// @ts-check
// `npx gatsby-adapter-node` (the package's bin): the build of the site in the current folder, on PORT and
// HOST, until SIGTERM or SIGINT. SITE_DIR names another folder (a standalone folder's server.js sets it).
// With WEB_CONCURRENCY over 1, this process is the primary of that many workers (src/workers.js), each
// of which runs the server as a process alone would.
// (Node gives cluster itself as the module, which its types call the module's default.)
const cluster = /** @type {import("node:cluster").Cluster} */ (
  /** @type {unknown} */ (require("node:cluster"))
)
const path = require("node:path")
const closeWithGrace = require("close-with-grace")
const { readSettings } = require("./src/env")
const { createLogger } = require("./src/logs")
const { createServer } = require("./src/server")
const { onPrimaryShutdown, runPrimary } = require("./src/workers")

/** @param {import("./src/env").Settings} settings */
async function serve(settings) {
  const { port, host, metricsPort, shutdownDeadlineMs } = settings
  const inCluster = cluster.isWorker
  // Loaded only when asked for: off, metrics cost no memory.
  const { createMetrics, metricsServer } = metricsPort === undefined ? {} : require("./src/metrics")
  const metrics = createMetrics?.()
  const app = await createServer({
    root: path.resolve(settings.siteDir ?? process.cwd()),
    accessLog: settings.accessLog,
    logFormat: settings.logFormat,
    bodyLimit: settings.bodyLimit,
    countryHeader: settings.countryHeader,
    trustProxy: settings.trustProxy,
    pressure: {
      maxEventLoopDelayMs: settings.maxEventLoopDelayMs,
      maxHeapUsedBytes: settings.maxHeapUsedBytes,
    },
    cacheBytes: settings.cacheBytes,
    maxInFlight: settings.maxInFlight,
    fileMemoryBytes: settings.fileMemoryBytes,
    metrics,
    timeouts: { idleMs: settings.keepAliveMs },
    sharedCache: settings.redisUrl
      ? { url: settings.redisUrl, timeoutMs: settings.redisTimeoutMs }
      : undefined,
  })
  // A worker's metrics are served by the primary, with every other worker's.
  const metricsListener =
    !inCluster && metrics
      ? metricsServer?.(() => metrics.registry.metrics(), metrics.registry.contentType)
      : undefined
  // A Gatsby Function that fails after an await is an unhandled rejection, which the server answers
  // with a 500 (src/functions.js); any other one still ends up here, as an uncaught exception. A
  // worker takes no signal: its primary tells it when to stop (src/workers.js).
  const graceful = closeWithGrace(
    {
      delay: shutdownDeadlineMs,
      skip: ["unhandledRejection", ...(inCluster ? /** @type {const} */ (["SIGTERM", "SIGINT"]) : [])],
    },
    async ({ signal, err }) => {
      // The port first, so that the line below is true once read: a connection made after it is
      // refused, not taken and reset (fastify closes the port a few ticks into app.close(), and a
      // client that read the line in between had its connection reset).
      app.server.close()
      if (err) app.log.error({ err }, "uncaught exception: shutting down")
      else
        app.log.info(
          `${signal ?? "the primary said so"}: no new connections; finishing the requests in flight`,
        )
      metricsListener?.close()
      await app.close()
    },
  )
  if (inCluster) {
    for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => {})
    onPrimaryShutdown(() => void graceful.close())
  }
  await app.listen({ port, host, backlog: settings.backlog })
  if (inCluster) return
  if (metricsListener) {
    await new Promise((resolve, reject) =>
      metricsListener.once("error", reject).listen(metricsPort, host, () => resolve(undefined)),
    )
    const { port: at } = /** @type {import("node:net").AddressInfo} */ (metricsListener.address())
    app.log.info(`Prometheus metrics on http://${host}:${at}/metrics (METRICS_PORT=${at})`)
  }
  const { port: actual } = /** @type {import("node:net").AddressInfo} */ (app.server.address())
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host
  app.log.info(`Serving the built site on http://${shown}:${actual}/ (HOST=${host}, PORT=${actual})`)
}

async function main() {
  const settings = readSettings(process.env)
  if (settings.workers > 1 && cluster.isPrimary) {
    process.exitCode = await runPrimary(
      settings,
      createLogger((line) => process.stdout.write(`${line}\n`)),
    )
    return
  }
  await serve(settings)
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
