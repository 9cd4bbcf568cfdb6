// @ts-check
// Redirects: those the site asked Gatsby for (createRedirect), where their conditions hold, and the one
// address of a page under trailingSlash. Each with the short body that gatsby serve sends
// (express-bodies.js).
const { redirectBody, trailingSlashRedirectPage } = require("./express-bodies")
const { conditionsHold, redirectLocation } = require("./routes")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {Extract<import("./routes").Candidate, { kind: "redirect" }>} RedirectCandidate
 */

/** @param {FastifyRequest} request @param {FastifyReply} reply @param {string} location @param {number} status */
function sendRedirect(request, reply, location, status) {
  const { type, body } = redirectBody(request.raw, status, location)
  if (type) reply.type(type)
  return reply.code(status).header("location", location).send(body)
}

// A page's one address under trailingSlash, with the page that gatsby serve sends for it (serve-static's).
/** @param {FastifyReply} reply @param {string} location */
function sendTrailingSlashRedirect(reply, location) {
  return reply
    .code(301)
    .header("location", location)
    .type("text/html; charset=utf-8")
    .send(trailingSlashRedirectPage(location))
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
    return sendRedirect(request, reply.headers(candidate.headers), location, candidate.route.status)
  }
}

module.exports = { redirectStage, sendTrailingSlashRedirect }
