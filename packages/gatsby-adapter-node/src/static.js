// @ts-check
// Files of public/. Every file that the routes name is known from the start: its type, length,
// validators, the headers Gatsby gave it and which compressed forms the build wrote beside it
// (precompress.js), so that a request makes no look-up on disk, let alone one that fails. The bodies of
// small files are kept in memory once asked for, within a bound in bytes (lru-cache); larger ones stream
// from disk. A client that has the file gets 304 (fresh), one that asks for a range 206
// (range-parser), one that accepts brotli or gzip that form (@fastify/accept-negotiator).
// It answers on Node's request and response, so that files are served the same way before the
// framework (server.js's fast lane) and from a route.
const { createReadStream, statSync } = require("node:fs")
const { readFile } = require("node:fs/promises")
const path = require("node:path")
const { pipeline } = require("node:stream")
const { negotiate } = require("@fastify/accept-negotiator")
const fresh = require("fresh")
const { LRUCache } = require("lru-cache")
const mime = require("mime-types")
const parseRange = require("range-parser")
const { notModifiedHeaders } = require("./not-modified")
const { COMPRESSIBLE } = require("./precompress")

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {Extract<import("./routes").Candidate, { kind: "file" }>} FileCandidate
 * @typedef {{ file: string, size: number, headers: Record<string, string> }} Form a file's bytes, as sent
 * @typedef {{ identity: Form, br?: Form, gzip?: Form, encodings: string[], notModified: Record<string, string>,
 *   validators: { etag: string, "last-modified": string } }} FileEntry
 */

const FILE_METHODS = ["GET", "HEAD"]
// The compressed forms, best first, and the suffix of each one's file.
const FORMS = /** @type {const} */ ([
  ["br", ".br"],
  ["gzip", ".gz"],
])

/**
 * @param {{ publicDir: string, everyPath: Record<string, string>, memoryBytes: number }} options
 *   everyPath: the headers Gatsby gives every path, under a file's own; memoryBytes: the bound of the
 *   file bodies kept in memory (0: none); a file of more than a sixteenth of it always streams.
 */
function fileStore({ publicDir, everyPath, memoryBytes }) {
  /** @type {LRUCache<string, Buffer> | undefined} */
  const memory = memoryBytes
    ? new LRUCache({
        maxSize: memoryBytes,
        maxEntrySize: Math.floor(memoryBytes / 16) || 1,
        sizeCalculation: (body) => body.length,
      })
    : undefined
  /** @type {Map<string, Promise<Buffer>>} files being read into memory */
  const loading = new Map()
  /** @type {Map<string, string | null>} an Accept-Encoding header and the forms there are → the form to send */
  const negotiated = new Map()

  /**
   * What to know of a file at start, or undefined where public/ lacks it.
   * @param {FileCandidate} candidate @param {string[]} vary the request headers its address varies by
   * @returns {FileEntry | undefined}
   */
  const entry = (candidate, vary) => {
    const file = path.join(publicDir, path.posix.relative("public", candidate.route.filePath))
    const stats = statOf(file)
    if (!stats) return undefined
    const validators = {
      // As @fastify/send makes it: the same for each form, which is the same file in other bytes.
      etag: `W/"${stats.size.toString(16)}-${stats.mtimeMs.toString(16)}"`,
      "last-modified": stats.mtime.toUTCString(),
    }
    const compressible = COMPRESSIBLE.test(file)
    /** @type {Record<string, string>} */
    const base = {
      ...everyPath,
      ...candidate.headers,
      "content-type": mime.contentType(path.extname(file)) || "application/octet-stream",
      "accept-ranges": "bytes",
      ...validators,
    }
    // A text file has compressed forms, which a cache in front must keep apart from the file.
    const varyBy = compressible ? [...vary, "accept-encoding"] : vary
    if (varyBy.length) base.vary = varyBy.join(", ")
    /** @type {FileEntry} */
    const found = {
      identity: { file, size: stats.size, headers: { ...base, "content-length": String(stats.size) } },
      encodings: [],
      notModified: notModifiedHeaders(base),
      validators,
    }
    for (const [encoding, suffix] of compressible ? FORMS : []) {
      const form = statOf(`${file}${suffix}`)
      if (!form) continue
      found[encoding] = {
        file: `${file}${suffix}`,
        size: form.size,
        headers: { ...base, "content-encoding": encoding, "content-length": String(form.size) },
      }
      found.encodings.push(encoding)
    }
    return found
  }

  /** @param {FileEntry} found @param {string | undefined} accepted @returns {Form} */
  const formFor = (found, accepted) => {
    if (!accepted || !found.encodings.length) return found.identity
    const key = `${found.encodings.join(",")}|${accepted}`
    let encoding = negotiated.get(key)
    if (encoding === undefined) {
      encoding = negotiate(accepted, found.encodings) ?? null
      // Browsers send a handful of these; anything may, so the memo is bounded, in entries and length.
      if (negotiated.size >= 1000) negotiated.clear()
      if (accepted.length <= 256) negotiated.set(key, encoding)
    }
    return (encoding && found[/** @type {"br" | "gzip"} */ (encoding)]) || found.identity
  }

  /**
   * A small file's body from memory, read there at its first request (once, however many ask for it
   * meanwhile); a larger one streams from disk.
   * @param {Form} form @param {ServerResponse} res @param {{ start: number, end: number }} [range]
   */
  const sendBody = (form, res, range) => {
    const body = memory?.get(form.file)
    if (body) return void res.end(range ? body.subarray(range.start, range.end + 1) : body)
    if (!memory || form.size > memory.maxEntrySize)
      return void pipeline(createReadStream(form.file, range), res, () => {})
    let read = loading.get(form.file)
    if (!read) {
      read = readFile(form.file)
      loading.set(form.file, read)
      read
        .then(
          (loaded) => memory.set(form.file, loaded),
          () => {},
        )
        .finally(() => loading.delete(form.file))
    }
    read.then(
      (loaded) => res.end(range ? loaded.subarray(range.start, range.end + 1) : loaded),
      // Gone from disk since the server started: the answer cannot be finished.
      () => res.destroy(),
    )
  }

  /**
   * Answers a GET or HEAD for a file.
   * @param {FileEntry} found @param {IncomingMessage} req @param {ServerResponse} res
   */
  const send = (found, req, res) => {
    const { headers } = req
    if ((headers["if-none-match"] || headers["if-modified-since"]) && fresh(headers, found.validators)) {
      res.writeHead(304, found.notModified)
      return void res.end()
    }
    const head = req.method === "HEAD"
    if (
      headers.range &&
      !head &&
      ifRangeHolds(/** @type {string | undefined} */ (headers["if-range"]), found.validators)
    ) {
      const { size } = found.identity
      const ranges = parseRange(size, headers.range, { combine: true })
      if (ranges === -1) {
        res.writeHead(416, { "content-range": `bytes */${size}`, "cache-control": "no-store" })
        return void res.end()
      }
      // One range; a malformed header, or several ranges, get the whole file (RFC 9110 allows it).
      if (Array.isArray(ranges) && ranges.type === "bytes" && ranges.length === 1) {
        const [{ start, end }] = ranges
        res.writeHead(206, {
          ...found.identity.headers,
          "content-range": `bytes ${start}-${end}/${size}`,
          "content-length": String(end - start + 1),
        })
        return sendBody(found.identity, res, { start, end })
      }
    }
    const form = formFor(found, /** @type {string | undefined} */ (headers["accept-encoding"]))
    res.writeHead(200, form.headers)
    if (head) return void res.end()
    sendBody(form, res)
  }

  /**
   * What is known of each file that the routes name and public/ has, by its candidate.
   * @param {import("./routes").Address[]} table @returns {Map<import("./routes").Candidate, FileEntry>}
   */
  const entries = (table) =>
    new Map(
      table.flatMap(({ candidates, vary }) =>
        candidates.flatMap((candidate) => {
          const found = candidate.kind === "file" ? entry(candidate, vary) : undefined
          return found ? [[candidate, found]] : []
        }),
      ),
    )

  return { entries, send }
}

// An If-Range holds when it names the file as it is: its ETag or its date (RFC 9110, 13.1.5).
/** @param {string | undefined} ifRange @param {FileEntry["validators"]} validators */
function ifRangeHolds(ifRange, validators) {
  if (!ifRange) return true
  return ifRange.includes('"') ? ifRange === validators.etag : ifRange === validators["last-modified"]
}

/** @param {string} file */
function statOf(file) {
  try {
    const stats = statSync(file)
    return stats.isFile() ? stats : undefined
  } catch {
    return undefined
  }
}

module.exports = { FILE_METHODS, fileStore }
