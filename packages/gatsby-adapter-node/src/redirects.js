// @ts-check
// Redirects: those the site asked Gatsby for (createRedirect), where their conditions hold, and the one
// address of a page under trailingSlash. Each with Express's short body, as gatsby serve sends them.
const { STATUS_CODES } = require("node:http")
const { conditionsHold, redirectLocation } = require("./routes")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {Extract<import("./routes").Candidate, { kind: "redirect" }>} RedirectCandidate
 */

// What Express says in the body of a redirect, for a client that does not follow it.
/** @param {number} status @param {string} location */
function redirectText(status, location) {
  return `${STATUS_CODES[status] ?? "Redirecting"}. Redirecting to ${location}\n`
}

/** @param {FastifyReply} reply @param {string} location @param {number} status */
function sendRedirect(reply, location, status) {
  return reply
    .code(status)
    .header("location", location)
    .type("text/plain; charset=utf-8")
    .send(redirectText(status, location))
}

/**
 * The site's redirect, or undefined where its conditions do not hold for this request (the next
 * candidate answers then).
 * @param {string | undefined} countryHeader the request header that names the visitor's country
 */
function redirectStage(countryHeader) {
  /**
   * @param {RedirectCandidate} candidate @param {FastifyRequest} request @param {FastifyReply} reply
   * @param {string} pathname @param {string} query with its "?"
   */
  return (candidate, request, reply, pathname, query) => {
    if (!conditionsHold(candidate.route, request.headers, countryHeader)) return undefined
    const params = /** @type {Record<string, string | undefined>} */ (request.params)
    const location = redirectLocation(candidate.route, params, pathname, query)
    return sendRedirect(reply.headers(candidate.headers), location, candidate.route.status)
  }
}

module.exports = { redirectStage, redirectText, sendRedirect }
