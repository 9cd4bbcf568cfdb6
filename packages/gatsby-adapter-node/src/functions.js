// @ts-check
// Gatsby Functions (src/api/), run as `gatsby develop` and `gatsby serve` run them, where their authors
// write and try them: the body parsed first, by Express's parsers with the function's own
// `config.bodyParser` (multipart, raw, text, urlencoded, JSON, 100 KB each by default), so that a body
// it cannot parse gets 400 (413 over its limit, 415 for an encoding it cannot read) before the function
// runs, and a request without one gets `req.body` `{}`. (Gatsby's compiled wrapper would run the
// function without the body, and give `undefined` for none; it parses only a stream still unread.)
const { AsyncLocalStorage } = require("node:async_hooks")
const { STATUS_CODES } = require("node:http")
const bodyParser = require("body-parser")
const cookie = require("cookie")
const multer = require("multer")
const { errorStatusPage, redirectBody } = require("./express-bodies")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {import("gatsby").GatsbyFunctionRequest} GatsbyFunctionRequest
 * @typedef {import("gatsby").GatsbyFunctionResponse} GatsbyFunctionResponse
 * @typedef {import("gatsby").GatsbyFunctionConfig} FunctionConfig
 * @typedef {(req: GatsbyFunctionRequest, res: GatsbyFunctionResponse) => unknown} GatsbyFunction
 * @typedef {(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void} Middleware
 * @typedef {(error: unknown) => void} FailureHandler
 * @typedef {{ key: string, value: string }} Header
 */

// Gatsby's defaults for a function's bodyParser config (gatsby/dist/internal-plugins/functions/config).
const LIMIT = "100kb"

/**
 * The body parsers of a function, as `gatsby develop` chains them, with its own config over Gatsby's
 * defaults. Multipart files and fields, which Gatsby leaves unbounded in memory, are bounded by the
 * server's body limit, which a body sent in chunks (no Content-Length) would otherwise escape.
 * @param {FunctionConfig | undefined} config @param {number} bodyLimit @returns {Middleware[]}
 */
function bodyParsers(config, bodyLimit) {
  const own = config?.bodyParser ?? {}
  return /** @type {Middleware[]} */ ([
    multer({ limits: { fileSize: bodyLimit, fieldSize: bodyLimit } }).any(),
    bodyParser.raw({ limit: LIMIT, ...own.raw }),
    bodyParser.text({ limit: LIMIT, ...own.text }),
    bodyParser.urlencoded({ limit: LIMIT, extended: true, ...own.urlencoded }),
    bodyParser.json({ limit: LIMIT, ...own.json }),
  ])
}

/** @param {Middleware[]} parsers @param {IncomingMessage} req @param {ServerResponse} res */
async function parseBody(parsers, req, res) {
  for (const parse of parsers) {
    await new Promise((resolve, reject) =>
      parse(req, res, (/** @type {unknown} */ error) => (error ? reject(error) : resolve(undefined))),
    )
  }
}

// The status of a body that a parser refused: its own (400 malformed, 413 too large, 415 an encoding
// or charset it cannot read), 413 for a multipart file or field over the body limit, or 400 for a
// multipart body that ends early or breaks multer's other limits.
/** @param {unknown} error */
function refusedBodyStatus(error) {
  if (error instanceof multer.MulterError && /^LIMIT_(FILE|FIELD_VALUE)_SIZE$/.test(error.code)) return 413
  const status = /** @type {{ status?: unknown }} */ (error)?.status
  return typeof status === "number" && status >= 400 && status < 500 ? status : 400
}

// The failure handler of the Gatsby Function that a promise or a callback belongs to. Gatsby's
// compiled wrapper calls the function without returning its promise, so a function that fails after
// an await is an unhandled rejection; this finds the request it failed for, which gets the 500 page,
// and the server serves on. An exception thrown in a callback the function set up (a timer, say) is an
// uncaught exception: its request gets the 500 page too, and the process then stops as Node's does,
// gracefully (start.js); with workers, the primary replaces it.
/** @type {AsyncLocalStorage<FailureHandler>} */
const runningFunction = new AsyncLocalStorage()
let failuresWatched = false

function watchFunctionFailures() {
  if (failuresWatched) return
  failuresWatched = true
  process.on("unhandledRejection", (reason) => {
    const failed = runningFunction.getStore()
    // Anything else ends the process, as it does in Node without this listener.
    if (!failed) throw reason
    failed(reason)
  })
  // A monitor: it answers the request, and changes nothing of what happens to the process.
  process.on("uncaughtExceptionMonitor", (error) => runningFunction.getStore()?.(error))
}

/**
 * @param {{ compiled: Map<string, { handler: GatsbyFunction, config: FunctionConfig | undefined }>,
 *   everyPath: Header[], errorPage: string | undefined, bodyLimit: number,
 *   reportFailure: (error: unknown, request: FastifyRequest) => void }} options
 *   compiled: what Gatsby compiled, by functionId; everyPath: the headers Gatsby gives every path;
 *   errorPage: the site's 500 page, if it has one; bodyLimit: the server's bound on a request body
 */
function functionStage({ compiled, everyPath, errorPage, bodyLimit, reportFailure }) {
  watchFunctionFailures()
  /** @type {Map<string, Middleware[]>} made once a function, not at every request */
  const parsers = new Map([...compiled].map(([id, { config }]) => [id, bodyParsers(config, bodyLimit)]))

  /**
   * A Gatsby Function, with the request and response it gets under `gatsby develop`: the request with
   * its body parsed, its query and cookies, and Node's response with Express's status, send, json and
   * redirect. The function answers by itself, so fastify leaves the response to it.
   * @param {import("./routes").FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply
   */
  return async (route, request, reply) => {
    const { handler } = /** @type {{ handler: GatsbyFunction }} */ (compiled.get(route.functionId))
    const req = Object.assign(request.raw, {
      originalUrl: request.url,
      rawUrl: `${request.protocol}://${request.host}${request.url}`,
      query: /** @type {Record<string, string>} */ (request.query),
      params: {},
      cookies: safeCookies(request.headers.cookie),
      body: {},
    })
    try {
      await parseBody(/** @type {Middleware[]} */ (parsers.get(route.functionId)), req, reply.raw)
    } catch (error) {
      const status = refusedBodyStatus(error)
      return reply
        .code(status)
        .header("cache-control", "no-store")
        .type("text/html; charset=utf-8")
        .send(errorStatusPage(status))
    }
    reply.hijack()
    const res = expressResponse(request.raw, reply.raw)
    for (const { key, value } of route.headers ?? everyPath) res.setHeader(key, value)
    /** @type {FailureHandler} */
    const failed = (error) => {
      reportFailure(error, request)
      if (res.headersSent) return void res.destroy()
      const type = errorPage === undefined ? "text/plain" : "text/html"
      res.writeHead(500, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" })
      res.end(request.method === "HEAD" ? undefined : (errorPage ?? `${STATUS_CODES[500]}\n`))
    }
    try {
      const result = runningFunction.run(failed, () =>
        handler(/** @type {GatsbyFunctionRequest} */ (/** @type {unknown} */ (req)), res),
      )
      // A function that is not wrapped (Gatsby's wrapper returns nothing) may return its promise.
      if (result instanceof Promise) result.catch(failed)
    } catch (error) {
      failed(error)
    }
  }
}

// Cookies as gatsby serve parses them; a malformed header gives none rather than an error.
/** @param {string | undefined} header @returns {Record<string, string>} */
function safeCookies(header) {
  try {
    return header ? /** @type {Record<string, string>} */ (cookie.parse(header)) : {}
  } catch {
    return {}
  }
}

/**
 * Node's response with what Express adds and Gatsby documents (GatsbyFunctionResponse).
 * @param {IncomingMessage} req @param {ServerResponse} raw
 * @returns {GatsbyFunctionResponse}
 */
function expressResponse(req, raw) {
  /** @param {string | undefined} type @param {string | Buffer} body */
  const end = (type, body) => {
    if (type && !res.hasHeader("content-type")) res.setHeader("content-type", type)
    res.setHeader("content-length", Buffer.byteLength(body))
    res.end(req.method === "HEAD" ? undefined : body)
    return res
  }
  const res = /** @type {GatsbyFunctionResponse} */ (
    Object.assign(raw, {
      /** @param {number} code */
      status: (code) => ((res.statusCode = code), res),
      /** @param {unknown} body */
      send: (body) => {
        if (typeof body === "string") return end("text/html; charset=utf-8", body)
        if (Buffer.isBuffer(body)) return end("application/octet-stream", body)
        if (body === undefined || body === null) return (res.end(), res)
        return res.json(body)
      },
      /** @param {unknown} body */
      json: (body) => end("application/json; charset=utf-8", JSON.stringify(body) ?? "null"),
      /** @param {number | string} statusOrUrl @param {string} [url] */
      redirect: (statusOrUrl, url) => {
        const [status, location] =
          typeof statusOrUrl === "number" ? [statusOrUrl, url ?? "/"] : [302, statusOrUrl]
        res.statusCode = status
        res.setHeader("location", location)
        const { type, body } = redirectBody(req, status, location)
        return end(type, body)
      },
    })
  )
  return res
}

module.exports = { functionStage }
