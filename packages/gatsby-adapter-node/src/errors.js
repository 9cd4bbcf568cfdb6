// @ts-check
// What the server answers when no route does, or something fails: the site's 404 and 500 pages where it
// has them, a short plain answer for a client's mistakes (no stack, nothing a cache keeps).
const { STATUS_CODES } = require("node:http")
const { errorStatusPage } = require("./express-bodies")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("fastify").FastifyError} FastifyError
 */

// How long a client that got 503 because the server was overloaded is asked to wait.
const RETRY_AFTER_SECONDS = 10

// 503 with Retry-After, before any work is done for the request (too many in flight).
/** @param {import("node:http").ServerResponse} res */
function shed(res) {
  const body = "Service Unavailable: too many requests in flight; try again shortly\n"
  res.writeHead(503, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "retry-after": String(RETRY_AFTER_SECONDS),
  })
  res.end(body)
}

// A request refused, or failed, for a reason this server names: the status it answers, and the reason
// logged and counted (the Image CDN's).
class RefusedError extends Error {
  /** @param {string} message @param {number} status @param {string} reason */
  constructor(message, status, reason) {
    super(message)
    this.name = "RefusedError"
    this.status = status
    this.reason = reason
  }
}

// A client's mistake: its status and name.
/** @param {FastifyReply} reply @param {number} status */
function plainError(reply, status) {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .type("text/plain; charset=utf-8")
    .send(`${STATUS_CODES[status] ?? "Error"}\n`)
}

// The site's 404 page; for a site with none, the page that gatsby serve sends all the same.
/** @param {{ notFoundPage: Buffer | undefined }} build @param {FastifyReply} reply */
function sendNotFound({ notFoundPage }, reply) {
  return reply
    .code(404)
    .header("cache-control", "no-store")
    .type("text/html; charset=utf-8")
    .send(notFoundPage ?? errorStatusPage(404))
}

/**
 * fastify's error handler: the site's 500 page (plain text where it has none) for a failure, which goes
 * to the failure log; a short message for a client's mistake (413 for a body too large, 414 for a path
 * segment too long, ...); a quick 503 for a request shed under load.
 * @param {{ errorPage: string | undefined, reportFailure: (error: unknown, request: FastifyRequest) => void,
 *   onShed: (request: FastifyRequest) => void }} options
 */
function errorHandler({ errorPage, reportFailure, onShed }) {
  /** @param {FastifyError} error @param {FastifyRequest} request @param {FastifyReply} reply */
  return (error, request, reply) => {
    // Shed by @fastify/under-pressure (which set Retry-After): no failure of the server's, so counted,
    // not logged.
    if (error.code === "FST_UNDER_PRESSURE") {
      onShed(request)
      return plainError(reply, 503)
    }
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) reportFailure(error, request)
    if (status !== 500 || errorPage === undefined) return plainError(reply, status)
    return reply
      .code(500)
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(errorPage)
  }
}

module.exports = { RETRY_AFTER_SECONDS, RefusedError, shed, plainError, sendNotFound, errorHandler }
