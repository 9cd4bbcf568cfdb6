// @ts-check
// The short bodies that gatsby serve's Express sends for a redirect or a missing page, so that a client
// gets the same answer from this server: Express's res.redirect (text or HTML, as the client prefers),
// serve-static's page for a trailing-slash redirect, and finalhandler's for an error status (a page
// that is not there, a body a Function's parsers refuse).
const { STATUS_CODES } = require("node:http")
const accepts = require("accepts")

// As Express escapes a URL in HTML (escape-html).
/** @type {Record<string, string>} */
const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char])
}

// serve-static's and finalhandler's page: a title, and a line of text.
/** @param {string} title @param {string} line already escaped */
function htmlDocument(title, line) {
  return (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>${title}</title>\n</head>\n<body>\n<pre>${line}</pre>\n</body>\n</html>\n`
  )
}

/**
 * What Express's res.redirect says in the body of a redirect, for a client that does not follow it, in
 * the type the client prefers: text, HTML, or nothing.
 * @param {import("node:http").IncomingMessage} req @param {number} status @param {string} location
 * @returns {{ type?: string, body: string }}
 */
function redirectBody(req, status, location) {
  const message = `${STATUS_CODES[status] ?? "Redirecting"}. Redirecting to`
  const preferred = accepts(req).types(["text", "html"])
  if (preferred === "text") return { type: "text/plain; charset=utf-8", body: `${message} ${location}` }
  if (preferred !== "html") return { body: "" }
  const href = escapeHtml(location)
  return { type: "text/html; charset=utf-8", body: `<p>${message} <a href="${href}">${href}</a></p>` }
}

/** @param {string} location */
const trailingSlashRedirectPage = (location) =>
  htmlDocument("Redirecting", `Redirecting to ${escapeHtml(location)}`)

// finalhandler's page for an error status, as Express sends it in production: the status's name.
/** @param {number} status */
const errorStatusPage = (status) => htmlDocument("Error", escapeHtml(STATUS_CODES[status] ?? "Error"))

module.exports = { errorStatusPage, redirectBody, trailingSlashRedirectPage }
