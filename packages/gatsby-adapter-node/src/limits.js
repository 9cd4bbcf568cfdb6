// @ts-check
// The limits of a request that reaches the framework: load shedding (@fastify/under-pressure) while the
// event loop lags with other requests waiting, or the heap is nearly full; 414 for a URL too long, 413
// for a body that says it is too large, each before any work. And on the way out, in the same hook
// (each hook costs a cheap request more): the headers Gatsby gives every path, and the lingering close
// of linger.js for an answer sent before its request's body arrived.
const underPressure = require("@fastify/under-pressure").default
const { RETRY_AFTER_SECONDS, plainError } = require("./errors")
const { lingerIfBodyUnread } = require("./linger")
const { MAX_URL_LENGTH } = require("./routes")

// What a request shed under load passes to the error handler (errors.js answers it 503).
const overloaded = Object.assign(new Error("Service Unavailable: overloaded; try again shortly"), {
  code: "FST_UNDER_PRESSURE",
  statusCode: 503,
})

// How often under-pressure measures the event loop's delay (its default), as the mean since the last time.
const PRESSURE_SAMPLE_MS = 1000

/**
 * @param {import("fastify").FastifyInstance} app
 * @param {{ pressure: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number }, bodyLimit: number,
 *   linger: import("./linger").LingerBounds, everyPath: import("./routes").Header[],
 *   held: { requests: number }, engineLoad: { ms: number, at: number } }} options
 *   held: the requests past the fast lane being answered, this one included (fast-lane.js counts them);
 *   engineLoad: how long loading Gatsby's engine blocked the event loop, and when it ended
 *   (performance.now()); none yet: 0 and -Infinity
 */
async function applyLimits(app, { pressure, bodyLimit, linger, everyPath, held, engineLoad }) {
  // Overloaded, every request, /healthz included, gets 503 with Retry-After before any work is done for
  // it, until the load falls (errors.js counts it as shed, not as a failure).
  await app.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs,
    sampleInterval: PRESSURE_SAMPLE_MS,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    // The event loop's delay is its mean over the last second. A server that holds no other request
    // lagged for something else (its own start, a machine too busy to run it), which has passed: it
    // serves the one request it has, which waits behind nothing. (A freshly started server on a busy
    // machine answered its first pages 503.) Nor is the server's own lag of loading Gatsby's engine
    // at the first page, where that load alone passed the bound (the requests that came meanwhile were
    // answered 503): it weighs on the measure until the second sample after it. The heap's bound holds
    // whatever the server holds: it is checked here too, as under-pressure checks nothing more once
    // this lets a request through.
    pressureHandler: (request, reply, type) => {
      const heapFull = pressure.maxHeapUsedBytes > 0 && app.memoryUsage().heapUsed > pressure.maxHeapUsedBytes
      const engineLag =
        engineLoad.ms >= pressure.maxEventLoopDelayMs &&
        performance.now() - engineLoad.at < 2 * PRESSURE_SAMPLE_MS
      const passed = held.requests <= 1 || engineLag
      if (type === "eventLoopDelay" && passed && !heapFull) return undefined
      reply.header("retry-after", RETRY_AFTER_SECONDS)
      return Promise.reject(overloaded)
    },
  })
  // Hooks with callbacks rather than promises, as each costs a cheap request more (npm run bench's A/B).
  app.addHook("onRequest", (request, reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) return void plainError(reply, 414)
    if (Number(request.headers["content-length"]) > bodyLimit) return void plainError(reply, 413)
    done()
  })
  app.addHook("onSend", (request, reply, payload, done) => {
    for (const { key, value } of everyPath) if (!reply.hasHeader(key)) reply.header(key, value)
    lingerIfBodyUnread(request.raw, reply.raw, linger)
    done(null, payload)
  })
}

module.exports = { applyLimits }
