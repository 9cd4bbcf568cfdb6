// @ts-check
// Files of public/. A file that a route names is looked up on disk at its first request (its
// length, validators, and which compressed forms the build wrote beside it, precompress.js), not at
// start: a site of many thousand pages starts without a look-up for each, and holds what it learnt of
// the files asked for, each a few numbers and strings beside the headers that every file of its kind
// shares. The bodies of small files are kept in memory once asked for, within a bound in bytes
// (lru-cache); larger ones stream from disk. A client that has the file gets 304 (fresh), one that asks
// for a range 206 (range-parser), one that accepts brotli or gzip that form (@fastify/accept-negotiator).
// It answers on Node's request and response, so that files are served the same way before the
// framework (server.js's fast lane) and from a route.
const { createReadStream, readFileSync, statSync } = require("node:fs")
const { readFile } = require("node:fs/promises")
const path = require("node:path")
const { pipeline } = require("node:stream")
const { negotiate } = require("@fastify/accept-negotiator")
const fresh = require("fresh")
const { LRUCache } = require("lru-cache")
const mime = require("mime-types")
const parseRange = require("range-parser")
const { COMPRESSIBLE } = require("./precompress")

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {Extract<import("./routes").Candidate, { kind: "file" }>} FileCandidate
 * @typedef {{ file: string, size: number, encoding?: "br" | "gzip" }} Form a file's bytes, as sent
 * @typedef {{ identity: Form, br?: Form, gzip?: Form, encodings: Array<"br" | "gzip">,
 *   shared: { headers: string[], notModified: string[] }, validators: { etag: string, "last-modified": string } }} FileEntry
 *   shared: the headers every file of its kind has (name, value, name, value...), for a 200 and a 304
 */

const FILE_METHODS = ["GET", "HEAD"]
// A file this small is read in the server's own loop when memory lacks it, as nginx reads one: four
// system calls of microseconds, where libuv's threads took four round trips.
const SMALL_FILE_BYTES = 64 * 1024
// Files whose look-up is kept, the last ones asked for: a few hundred bytes each.
const KNOWN_FILES = 100_000
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
  // What is known of the files asked for, by file (and Vary, for the few files at an address with
  // conditions), the last ones asked for: a big site's routes are made when asked for (routes.js), and
  // the file they name is looked up again only once it is out of here. false: public/ lacks it.
  /** @type {LRUCache<string, FileEntry | false>} */
  const known = new LRUCache({ max: KNOWN_FILES })
  /** @param {FileCandidate} candidate @param {string[]} vary */
  const keyOf = ({ route }, vary) => (vary.length ? `${route.filePath}\n${vary.join(",")}` : route.filePath)
  /** @type {WeakMap<Record<string, string>, Map<string, FileEntry["shared"]>>} by a route's headers, then type and Vary */
  const sharedHeaders = new WeakMap()

  /**
   * The headers every file of a kind has: Gatsby's for every path, its route's (one object for every
   * route of the same headers, build.js), its type, and what it varies by.
   * @param {FileCandidate} candidate @param {string} type @param {string[]} varyBy
   * @returns {FileEntry["shared"]}
   */
  const shared = (candidate, type, varyBy) => {
    let byKind = sharedHeaders.get(candidate.headers)
    if (!byKind) sharedHeaders.set(candidate.headers, (byKind = new Map()))
    const kind = `${type}|${varyBy.join(",")}`
    let found = byKind.get(kind)
    if (!found) {
      /** @type {Record<string, string>} */
      const base = { ...everyPath, ...candidate.headers, "content-type": type, "accept-ranges": "bytes" }
      if (varyBy.length) base.vary = varyBy.join(", ")
      const headers = Object.entries(base).flat()
      // A 304 carries every header its 200 would but those of the body it lacks (not-modified.js).
      const notModified = Object.entries(base)
        .filter(([name]) => !name.toLowerCase().startsWith("content-"))
        .flat()
      found = { headers, notModified }
      byKind.set(kind, found)
    }
    return found
  }

  /**
   * What is known of a file: looked up on disk at its first request (three stat calls, a few
   * microseconds: each file once, as nginx looks a file up in its own loop; through libuv's threads, a
   * site of 50,000 pages served its first pass over them at a sixth of the pace), then kept.
   * @param {FileCandidate} candidate @param {string[]} vary the request headers its address varies by
   * @returns {FileEntry | undefined} undefined where public/ lacks it
   */
  const entryOf = (candidate, vary) => {
    const key = keyOf(candidate, vary)
    let found = known.get(key)
    if (found === undefined) {
      found = lookUp(candidate, vary) ?? false
      known.set(key, found)
    }
    return found || undefined
  }

  /** @param {FileCandidate} candidate @param {string[]} vary @returns {FileEntry | undefined} */
  const lookUp = (candidate, vary) => {
    const file = path.join(publicDir, candidate.route.filePath.slice("public/".length))
    const compressible = COMPRESSIBLE.test(file)
    const stats = statOf(file)
    if (!stats) return undefined
    const type = mime.contentType(path.extname(file)) || "application/octet-stream"
    // A text file has compressed forms, which a cache in front must keep apart from the file.
    const varyBy = compressible ? [...vary, "accept-encoding"] : vary
    /** @type {FileEntry} */
    const found = {
      identity: { file, size: stats.size },
      encodings: [],
      shared: shared(candidate, type, varyBy),
      validators: {
        // As @fastify/send makes it: the same for each form, which is the same file in other bytes.
        etag: `W/"${stats.size.toString(16)}-${stats.mtimeMs.toString(16)}"`,
        "last-modified": stats.mtime.toUTCString(),
      },
    }
    for (const [encoding, suffix] of compressible ? FORMS : []) {
      const form = statOf(`${file}${suffix}`)
      if (!form) continue
      found[encoding] = { file: `${file}${suffix}`, size: form.size, encoding }
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
    if (form.size <= SMALL_FILE_BYTES) {
      let loaded
      try {
        loaded = readFileSync(form.file)
      } catch {
        // Gone from disk since the server started: the answer cannot be finished.
        return void res.destroy()
      }
      memory.set(form.file, loaded)
      return void res.end(range ? loaded.subarray(range.start, range.end + 1) : loaded)
    }
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
    const { etag, "last-modified": lastModified } = found.validators
    if ((headers["if-none-match"] || headers["if-modified-since"]) && fresh(headers, found.validators)) {
      res.writeHead(304, [...found.shared.notModified, "etag", etag, "last-modified", lastModified])
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
        res.writeHead(206, [
          ...found.shared.headers,
          "etag",
          etag,
          "last-modified",
          lastModified,
          "content-range",
          `bytes ${start}-${end}/${size}`,
          "content-length",
          String(end - start + 1),
        ])
        return sendBody(found.identity, res, { start, end })
      }
    }
    const form = formFor(found, /** @type {string | undefined} */ (headers["accept-encoding"]))
    const sent = [...found.shared.headers, "etag", etag, "last-modified", lastModified]
    if (form.encoding) sent.push("content-encoding", form.encoding)
    sent.push("content-length", String(form.size))
    res.writeHead(200, sent)
    if (head) return void res.end()
    sendBody(form, res)
  }

  return {
    entryOf,
    send,
  }
}

// An If-Range holds when it names the file as it is: its ETag or its date (RFC 9110, 13.1.5).
/** @param {string | undefined} ifRange @param {FileEntry["validators"]} validators */
function ifRangeHolds(ifRange, validators) {
  if (!ifRange) return true
  return ifRange.includes('"') ? ifRange === validators.etag : ifRange === validators["last-modified"]
}

/** @param {string} file */
function statOf(file) {
  const stats = statSync(file, { throwIfNoEntry: false })
  return stats?.isFile() ? stats : undefined
}

module.exports = { FILE_METHODS, fileStore }
