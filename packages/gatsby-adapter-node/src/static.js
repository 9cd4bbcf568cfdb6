// @ts-check
// Files of public/, by the manifest's routes: with the headers Gatsby gave each, and their brotli or
// gzip forms (made at build time, precompress.js) to clients that accept them, through @fastify/static.
const path = require("node:path")
const { plainError } = require("./errors")
const { COMPRESSIBLE } = require("./precompress")

/**
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {Extract<import("./routes").Candidate, { kind: "file" }>} FileCandidate
 */

const FILE_METHODS = ["GET", "HEAD"]

/** @param {FileCandidate} candidate @param {string[]} vary @param {FastifyReply} reply */
function sendFile(candidate, vary, reply) {
  // A text file has a compressed form, which a cache in front must keep apart from the other.
  if (COMPRESSIBLE.test(candidate.route.filePath))
    reply.header("vary", [...vary, "accept-encoding"].join(", "))
  return reply.headers(candidate.headers).sendFile(path.posix.relative("public", candidate.route.filePath))
}

// A method that a file does not take: POST, PUT, DELETE… (Gatsby Functions decide for themselves).
/** @param {FastifyReply} reply */
function refuseMethod(reply) {
  return plainError(reply.header("allow", FILE_METHODS.join(", ")), 405)
}

module.exports = { FILE_METHODS, sendFile, refuseMethod }
