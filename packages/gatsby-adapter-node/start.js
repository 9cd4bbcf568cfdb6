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

// Before anything else is loaded: a stop asked for while the server starts (systemd and a terminal
// signal the whole process group, workers included) is kept, and honoured once the server can stop
// cleanly, rather than ending the process half-started. A worker takes no signal at all: its primary
// tells it when to stop (src/workers.js).
/** @type {{ signal: NodeJS.Signals | undefined, then?: (signal: NodeJS.Signals) => void }} */
const stopAsked = { signal: undefined }
for (const signal of /** @type {const} */ (["SIGTERM", "SIGINT"])) {
  process.on(signal, () => {
    if (cluster.isWorker || stopAsked.signal) return
    stopAsked.signal = signal
    stopAsked.then?.(signal)
  })
}

const path = require("node:path")
const closeWithGrace = require("close-with-grace")
const { readSettings } = require("./src/env")
const { createLogger } = require("./src/logs")
const { onPrimaryShutdown, relayRecoveries, reportStartFailure, runPrimary } = require("./src/workers")

/** @param {import("./src/env").Settings} settings */
async function serve(settings) {
  const { port, host, metricsPort, shutdownDeadlineMs } = settings
  const inCluster = cluster.isWorker
  // Here, not above: a primary of workers serves nothing, and holds none of it.
  const { createServer } = require("./src/server")
  // Loaded only when asked for: off, metrics cost no memory.
  const { createMetrics, metricsServer } = metricsPort === undefined ? {} : require("./src/metrics")
  const metrics = createMetrics?.()
  /** @type {import("fastify").FastifyInstance | undefined} */
  let app
  let stopping = false
  // The server, once listening; undefined if a stop was asked for before it could listen.
  const started = (async () => {
    const created = await createServer({
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
      // The images' folder is the workers': each keeps its share of the bound there.
      images: { ...settings.images, diskBytes: Math.floor(settings.images.diskBytes / settings.workers) },
    })
    app = created
    if (stopping) return undefined
    await created.listen({ port, host, backlog: settings.backlog })
    return created
  })()
  // A worker's metrics are served by the primary, with every other worker's.
  const metricsListener =
    !inCluster && metrics
      ? metricsServer?.(() => metrics.registry.metrics(), metrics.registry.contentType)
      : undefined
  // A Gatsby Function that fails after an await is an unhandled rejection, which the server answers
  // with a 500 (src/functions.js); an exception thrown outside any request's promise ends up here (the
  // request it came from, if any, got its 500 first), and the process stops as Node's would, but
  // gracefully. Signals come from the handlers at the top of this file.
  const graceful = closeWithGrace(
    { delay: shutdownDeadlineMs, skip: ["unhandledRejection", "SIGTERM", "SIGINT"] },
    async ({ err }) => {
      stopping = true
      const listening = await started.catch(() => undefined)
      if (err) app?.log.error({ err }, "uncaught exception: shutting down")
      if (!app) return
      if (!listening) {
        // With workers, the primary says why they stop.
        if (!inCluster) app.log.info("asked to stop while starting: stopped before serving")
        return void (await app.close())
      }
      // The port first, so that the line below is true once read: a connection made after it is
      // refused, not taken and reset (fastify closes the port a few ticks into app.close(), and a
      // client that read the line in between had its connection reset).
      app.server.close()
      if (!err)
        app.log.info(
          `${stopAsked.signal ?? "the primary said so"}: no new connections; finishing the requests in flight`,
        )
      metricsListener?.close()
      await app.close()
    },
  )
  if (inCluster) {
    onPrimaryShutdown(() => void graceful.close())
    relayRecoveries()
  } else {
    stopAsked.then = () => void graceful.close()
    if (stopAsked.signal) void graceful.close()
  }
  const listening = await started
  if (!listening || inCluster) return
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host
  if (metricsListener) {
    await new Promise((resolve, reject) =>
      metricsListener.once("error", reject).listen(metricsPort, host, () => resolve(undefined)),
    )
    const { port: at } = /** @type {import("node:net").AddressInfo} */ (metricsListener.address())
    listening.log.info(`Prometheus metrics on http://${host}:${at}/metrics (METRICS_PORT=${at})`)
  }
  const { port: actual } = /** @type {import("node:net").AddressInfo} */ (listening.server.address())
  listening.log.info(
    `Serving the built site on http://${shown}:${actual}/ (HOST=${host}, PORT=${actual}), in one process (${settings.workersWhy})`,
  )
}

async function main() {
  const settings = readSettings(process.env)
  if (settings.workers > 1 && cluster.isPrimary) {
    process.exitCode = await runPrimary(
      settings,
      createLogger((line) => process.stdout.write(`${line}\n`)),
      stopAsked,
    )
    return
  }
  try {
    await serve(settings)
  } catch (error) {
    throw startFailure(error, settings)
  }
}

/**
 * What stopped the server from starting, said in one line: a port that is taken or not ours to take,
 * or an address the machine does not have, named by its setting.
 * @param {unknown} error @param {import("./src/env").Settings} settings @returns {unknown}
 */
function startFailure(error, { port, host }) {
  const { code } = /** @type {NodeJS.ErrnoException} */ (error ?? {})
  if (code === "EADDRINUSE")
    return new Error(`PORT ${port} is in use on ${host} (EADDRINUSE): stop what listens there, or set PORT`)
  if (code === "EACCES")
    return new Error(`PORT ${port} on ${host} is not this user's to listen on (EACCES): set PORT above 1023`)
  if (code === "EADDRNOTAVAIL")
    return new Error(
      `HOST ${host} is no address of this machine (EADDRNOTAVAIL): set HOST, or leave it unset`,
    )
  return error
}

main().catch((error) => {
  const message = error instanceof Error ? error.message : String(error)
  // A worker's primary says it, once for all of them.
  if (cluster.isWorker) reportStartFailure(message, () => process.exit(1))
  else {
    console.error(message)
    process.exit(1)
  }
})
