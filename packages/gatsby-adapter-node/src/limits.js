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

/**
 * @param {import("fastify").FastifyInstance} app
 * @param {{ pressure: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number }, bodyLimit: number,
 *   linger: import("./linger").LingerBounds, everyPath: import("./routes").Header[],
 *   held: { requests: number } }} options
 *   held: the requests past the fast lane being answered, this one included (fast-lane.js counts them)
 */
async function applyLimits(app, { pressure, bodyLimit, linger, everyPath, held }) {
  // Overloaded, every request, /healthz included, gets 503 with Retry-After before any work is done for
  // it, until the load falls (errors.js counts it as shed, not as a failure).
  await app.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    // The event loop's delay is its mean over the last second. A server that holds no other request
    // lagged for something else (its own start, a machine too busy to run it), which has passed: it
    // serves the one request it has, which waits behind nothing. (A freshly started server on a busy
    // machine answered its first pages 503.) The heap's bound holds whatever the server holds: it is
    // checked here too, as under-pressure checks nothing more once this lets a request through.
    pressureHandler: (request, reply, type) => {
      const heapFull = pressure.maxHeapUsedBytes > 0 && app.memoryUsage().heapUsed > pressure.maxHeapUsedBytes
      if (type === "eventLoopDelay" && held.requests <= 1 && !heapFull) return undefined
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
