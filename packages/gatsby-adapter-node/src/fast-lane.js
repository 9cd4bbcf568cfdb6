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
 * @typedef {Extract<Candidate, { kind: "file" }>} FileCandidate
 * @typedef {(req: IncomingMessage, res: ServerResponse) => void} Handler
 */

/**
 * @param {{ fixed: (pathname: string) => Address | undefined, trailingSlash: import("./routes").TrailingSlash,
 *   files: ReturnType<typeof import("./static").fileStore>, images: ReturnType<typeof import("./images").imageLane>,
 *   answerFromCache: (req: IncomingMessage, res: ServerResponse) => boolean,
 *   access?: import("./logs").AccessLog, clientAddress: (req: IncomingMessage) => string,
 *   metrics?: import("./metrics").Metrics, maxInFlight: number, held: { requests: number },
 *   listening: () => boolean }} options
 *   fixed: the address with no params of a path (routes.js); files: the files of public/; maxInFlight: how many requests past this lane
 *   may be answered at once (0: no bound); held: the count of those being answered, which this lane
 *   keeps (limits.js reads it); listening: whether the server still takes connections
 * @param {Handler} next fastify's handler
 * @returns {Handler}
 */
function fastLane(options, next) {
  const {
    fixed,
    trailingSlash,
    files,
    images,
    answerFromCache,
    access,
    metrics,
    maxInFlight,
    held,
    listening,
  } = options
  // Counts an answer of this lane once it is sent.
  /** @param {import("./metrics").AnswerKind} kind @param {ServerResponse} res */
  const count = (kind, res) => {
    if (!metrics) return
    const started = process.hrtime.bigint()
    res.once("finish", () =>
      metrics.answered(kind, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    )
  }
  /**
   * @param {IncomingMessage} req @param {ServerResponse} res
   * @returns {boolean} answered
   */
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
    const at = fileAt(splitUrl(url)[0])
    const entry = at && files.entryOf(at, [])
    let kind = /** @type {import("./metrics").AnswerKind} */ ("file")
    if (entry) files.send(entry, req, res)
    else if (at) return false
    else if (images.owns(url) && images.answerFromMemory(req, res)) kind = "image"
    else if (answerFromCache(req, res)) {
      kind = "cached"
      metrics?.cacheLookup("hit")
    }
    // A file that public/ lacks (the framework answers 404), or nothing this lane answers.
    else return false
    // Answered by now, its end not yet sent.
    access?.(req, res, nextRequestId(), options.clientAddress(req))
    count(kind, res)
    return true
  }
  /**
   * The file at a path, where nothing but a file answers it (no redirect, no condition), and only at
   * its one address: a file's name, a page's under trailingSlash.
   * @param {string} pathname @returns {FileCandidate | undefined}
   */
  const fileAt = (pathname) => {
    const address = fixed(pathname)
    const candidate = address?.candidates.length === 1 ? address.candidates[0] : undefined
    if (candidate?.kind !== "file" || address?.vary.length) return undefined
    const slash = pathname.length > 1 && pathname.endsWith("/")
    if (!candidate.page || pathname === "/") return slash ? undefined : candidate
    return trailingSlash === "ignore" || slash === (trailingSlash === "always") ? candidate : undefined
  }
  /** @type {Handler} */
  const handler = (req, res) => {
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
  return handler
}

module.exports = { fastLane }
