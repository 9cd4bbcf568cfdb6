// @ts-check
// fastify as this server uses it: on Node's HTTP server with timeouts of seconds, behind a handler of
// the server's own in front (the fast lane), compressing answers, and reading no request body (Gatsby
// Functions parse their own, functions.js).
const http = require("node:http")
const fastifyCompress = require("@fastify/compress").default
const Fastify = require("fastify").default
const { LogController } = require("fastify")
const { plainError } = require("./errors")
const { nextRequestId } = require("./logs")
const { originForm } = require("./routes")

/**
 * @typedef {{ headersMs: number, requestMs: number, idleMs: number, socketMs: number }} Timeouts
 * @typedef {(req: http.IncomingMessage, res: http.ServerResponse) => void} Handler
 */

// Seconds, not minutes: a client that sends its headers or body slowly, or keeps an idle socket,
// gives it up. idleMs is Node's own default; behind a load balancer start.js may raise it (see there).
/** @type {Timeouts} */
const TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, idleMs: 5_000, socketMs: 30_000 }

/**
 * @param {{ timeouts: Timeouts, logger: import("pino").Logger, trustProxy: false | string[] | import("./env").TrustHops,
 *   front: (framework: Handler, listening: () => boolean) => Handler }} options
 *   front: the handler that sees each request first, and passes to fastify's what it does not answer
 * @returns {Promise<import("fastify").FastifyInstance>}
 */
async function createFramework({ timeouts, logger, trustProxy, front }) {
  /** @type {http.Server | undefined} */
  let server
  const app = Fastify({
    serverFactory: (handler) => {
      const options = {
        headersTimeout: timeouts.headersMs,
        requestTimeout: timeouts.requestMs,
        keepAliveTimeout: timeouts.idleMs,
        // How often Node checks headersTimeout and requestTimeout; its default (30 s) would let them
        // run that much late.
        connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
      }
      server = http.createServer(
        options,
        front(handler, () => Boolean(server?.listening)),
      )
      server.setTimeout(timeouts.socketMs)
      return server
    },
    // Behind a proxy that is trusted, the client's address, protocol and host come from X-Forwarded-*:
    // in the access log, and in the URL that Gatsby Functions and the engine are given.
    trustProxy,
    loggerInstance: logger,
    // One line per request at most, the access log's, which is off by default.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
    // /ssr matches /ssr/'s route; the handler then sends it to the address trailingSlash picks.
    routerOptions: { ignoreTrailingSlash: true },
    // RFC 9112 has servers accept a request target in absolute form (GET http://host/ssr/ HTTP/1.1):
    // it is routed on its path, and no answer repeats its authority.
    rewriteUrl: (req) => originForm(req.url ?? "/"),
    // A malformed escape in the path (400), a dynamic segment (a breed) over fastify's maxParamLength
    // of 100 characters (414, without asking the page): fastify's own status, with a short message.
    frameworkErrors: (error, _request, reply) => plainError(reply, error.statusCode ?? 400),
  })
  // Compression of answers only: Gatsby Functions' body parsers decompress a request's body, or refuse
  // an encoding they cannot read, as under gatsby develop.
  await app.register(fastifyCompress, { threshold: 1024, globalDecompression: false })
  // Request bodies are for Gatsby Functions, parsed by each function's own config (functions.js), so
  // fastify reads none: it only refuses one that says it is too large.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser("*", (_request, _payload, done) => done(null))
  return /** @type {import("fastify").FastifyInstance} */ (/** @type {unknown} */ (app))
}

module.exports = { createFramework, TIMEOUTS }
