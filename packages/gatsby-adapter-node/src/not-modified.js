// @ts-check
// What a 304 carries: every header its 200 would, but those that describe the body it does not have
// (RFC 9110, 15.4.5), as Express's `send` (gatsby serve) and nginx answer. A cache updates the copy
// it keeps from a 304's headers; one that takes them as the answer's, or a check of what was sent
// (Gatsby's adapter suite), would find Gatsby's security headers and gatsby-config's own gone.

/** @template {Record<string, unknown>} H @param {H} headers @returns {H} */
function notModifiedHeaders(headers) {
  return /** @type {H} */ (
    Object.fromEntries(Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith("content-")))
  )
}

module.exports = { notModifiedHeaders }
