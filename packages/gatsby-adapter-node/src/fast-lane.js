// @ts-check
// What the server answers before the framework sees a request, as a server or CDN in front of Node
// would: a GET or HEAD for a file at its one address, with no redirect or condition there, and a page
// fresh in the shared cache (most of a page view's requests are these); past the bound on requests in
// flight, a quick 503. Anything else goes on to fastify (server.js), and so does every request once the
// server closes, so that fastify answers what its connections still ask.
const { shed } = require("./errors")
const { nextRequestId } = require("./logs")
const { MAX_URL_LENGTH, splitUrl } = require("./routes")

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {import("./routes").Address} Address
 * @typedef {import("./routes").Candidate} Candidate
 * @typedef {import("./static").FileEntry} FileEntry
 * @typedef {(req: IncomingMessage, res: ServerResponse) => void} Handler
 */

/**
 * @param {{ table: Address[], fileOf: Map<Candidate, FileEntry>, trailingSlash: import("./routes").TrailingSlash,
 *   sendFile: (entry: FileEntry, req: IncomingMessage, res: ServerResponse) => void,
 *   answerFromCache: (req: IncomingMessage, res: ServerResponse) => boolean,
 *   access?: import("./logs").AccessLog, clientAddress: (req: IncomingMessage) => string,
 *   metrics?: import("./metrics").Metrics, maxInFlight: number, held: { requests: number },
 *   listening: () => boolean }} options
 *   fileOf: what is known of each file that a route names; maxInFlight: how many requests past this lane
 *   may be answered at once (0: no bound); held: the count of those being answered, which this lane
 *   keeps (limits.js reads it); listening: whether the server still takes connections
 * @param {Handler} next fastify's handler
 * @returns {Handler}
 */
function fastLane(options, next) {
  const { sendFile, answerFromCache, access, metrics, maxInFlight, held, listening } = options
  const files = filesByPath(options.table, options.fileOf, options.trailingSlash)
  // Counts an answer of this lane once it is sent.
  /** @param {import("./metrics").AnswerKind} kind @param {ServerResponse} res */
  const count = (kind, res) => {
    if (!metrics) return
    const started = process.hrtime.bigint()
    res.once("finish", () =>
      metrics.answered(kind, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    )
  }
  /** @param {IncomingMessage} req @param {ServerResponse} res @returns {boolean} answered */
  const answered = (req, res) => {
    if (!listening() || (req.method !== "GET" && req.method !== "HEAD")) return false
    const url = req.url ?? ""
    if (
      !url.startsWith("/") ||
      url.length > MAX_URL_LENGTH ||
      req.headers["content-length"] ||
      req.headers["transfer-encoding"]
    )
      return false
    const entry = files.get(splitUrl(url)[0])
    if (entry) sendFile(entry, req, res)
    else if (answerFromCache(req, res)) metrics?.cacheLookup("hit")
    else return false
    // Both are answered by now, and their ends not yet sent.
    access?.(req, res, nextRequestId(), options.clientAddress(req))
    count(entry ? "file" : "cached", res)
    return true
  }
  return (req, res) => {
    if (answered(req, res)) return
    // Past the bound, a quick 503 rather than a wait behind the others (say, on a hanging API).
    if (maxInFlight && held.requests >= maxInFlight) {
      metrics?.shed("in-flight")
      count("shed", res)
      return shed(res)
    }
    held.requests++
    res.once("close", () => held.requests--)
    next(req, res)
  }
}

/**
 * The files that the lane answers, by path: each at its one address (a page's under trailingSlash),
 * where nothing but the file answers.
 * @param {Address[]} table @param {Map<Candidate, FileEntry>} fileOf @param {import("./routes").TrailingSlash} trailingSlash
 */
function filesByPath(table, fileOf, trailingSlash) {
  /** @type {Map<string, FileEntry>} */
  const byPath = new Map()
  for (const { url, candidates, vary } of table) {
    const entry = candidates.length === 1 && !vary.length ? fileOf.get(candidates[0]) : undefined
    if (!entry || /[:*]/.test(url)) continue
    const paths =
      candidates[0].kind !== "file" || !candidates[0].page || url === "/"
        ? [url]
        : trailingSlash === "always"
          ? [`${url}/`]
          : trailingSlash === "never"
            ? [url]
            : [url, `${url}/`]
    for (const at of paths) byPath.set(at, entry)
  }
  return byPath
}

module.exports = { fastLane }
