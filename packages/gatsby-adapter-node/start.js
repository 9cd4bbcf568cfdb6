#!/usr/bin/env node
// @ts-check
// `npx gatsby-adapter-node` (the package's bin): the build of the site in the current folder, on PORT and
// HOST, until SIGTERM or SIGINT. SITE_DIR names another folder (a standalone folder's server.js sets it).
const path = require("node:path")
const closeWithGrace = require("close-with-grace")
const { readSettings } = require("./src/env")
const { createServer } = require("./src/server")

async function main() {
  const {
    port,
    host,
    accessLog,
    logFormat,
    keepAliveMs,
    shutdownDeadlineMs,
    bodyLimit,
    countryHeader,
    trustProxy,
    maxEventLoopDelayMs,
    maxHeapUsedBytes,
    cacheBytes,
    maxInFlight,
    fileMemoryBytes,
    metricsPort,
    backlog,
    siteDir,
  } = readSettings(process.env)
  // Loaded only when asked for: off, metrics cost no memory.
  const { createMetrics, metricsServer } = metricsPort === undefined ? {} : require("./src/metrics")
  const metrics = createMetrics?.()
  const app = await createServer({
    root: path.resolve(siteDir ?? process.cwd()),
    accessLog,
    logFormat,
    bodyLimit,
    countryHeader,
    trustProxy,
    pressure: { maxEventLoopDelayMs, maxHeapUsedBytes },
    cacheBytes,
    maxInFlight,
    fileMemoryBytes,
    metrics,
    timeouts: { idleMs: keepAliveMs },
  })
  const metricsListener = metrics && metricsServer?.(metrics)
  // A Gatsby Function that fails after an await is an unhandled rejection, which the server answers
  // with a 500 (src/functions.js); any other one still ends up here, as an uncaught exception.
  closeWithGrace({ delay: shutdownDeadlineMs, skip: ["unhandledRejection"] }, async ({ signal, err }) => {
    if (err) app.log.error({ err }, "uncaught exception: shutting down")
    else app.log.info(`${signal}: no new connections; finishing the requests in flight`)
    metricsListener?.close()
    await app.close()
  })
  await app.listen({ port, host, backlog })
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

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
