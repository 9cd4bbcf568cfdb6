// @ts-check
// Running what `gatsby build` compiled, as Gatsby runs it: the SSR engine (pages with getServerData,
// DSG pages, and their page-data) and Gatsby Functions (src/api/).
const { AsyncLocalStorage } = require("node:async_hooks")
const { existsSync } = require("node:fs")
const { STATUS_CODES } = require("node:http")
const cookie = require("cookie")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("gatsby").GatsbyFunctionRequest} GatsbyFunctionRequest
 * @typedef {import("gatsby").GatsbyFunctionResponse} GatsbyFunctionResponse
 * @typedef {(req: GatsbyFunctionRequest, res: GatsbyFunctionResponse) => unknown} GatsbyFunction
 * @typedef {{ status(code: number): EngineResponse, setHeader(name: string, value: string | string[]): EngineResponse,
 *   send(body?: unknown): void, json(body: unknown): void }} EngineResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown }} EngineRequest
 * @typedef {(req: EngineRequest, res: EngineResponse) => Promise<void>} Engine
 * @typedef {(error: unknown) => void} FailureHandler
 * @typedef {import("./response-cache").Rendered} Rendered
 */

/** @param {string} file @returns {GatsbyFunction & Engine} */
function loadFunction(file) {
  // gatsby develop deletes the SSR engine that gatsby build wrote.
  if (!existsSync(file))
    throw new Error(`The build has no ${file} (gatsby develop deletes it). Run \`gatsby build\` again.`)
  /** @type {(GatsbyFunction & Engine) | { default: GatsbyFunction & Engine }} */
  const mod = require(file)
  return typeof mod === "function" ? mod : mod.default
}

/**
 * What Gatsby's SSR engine answers for a request: it is written for Express, so it gets the part of
 * Express's response it uses (status, setHeader, send and json), which collects the answer for the
 * server to send, or to keep (response-cache.js).
 * @param {Engine} engine @param {EngineRequest} request @returns {Promise<Rendered>}
 */
async function renderEngine(engine, request) {
  /** @type {Rendered} */
  const rendered = { status: 200, headers: {}, body: Buffer.alloc(0) }
  /** @param {string} type @param {string} body */
  const end = (type, body) => {
    rendered.headers["content-type"] ??= type
    rendered.body = Buffer.from(body)
  }
  /** @type {EngineResponse} */
  const res = {
    status: (code) => ((rendered.status = code), res),
    // In lower case, as Node gives them and HTTP caches compare them.
    setHeader: (name, value) => ((rendered.headers[name.toLowerCase()] = value), res),
    // As Express's, which the engine is written for: a string is HTML.
    send: (body) => end("text/html; charset=utf-8", String(body ?? "")),
    json: (body) => end("application/json; charset=utf-8", JSON.stringify(body) ?? "null"),
  }
  await engine(request, res)
  return rendered
}

// The failure handler of the Gatsby Function that a promise belongs to. Gatsby's compiled wrapper
// calls the function without returning its promise, so a function that fails after an await is an
// unhandled rejection; this finds the request it failed for.
/** @type {AsyncLocalStorage<FailureHandler>} */
const runningFunction = new AsyncLocalStorage()
let rejectionsWatched = false

function watchFunctionRejections() {
  if (rejectionsWatched) return
  rejectionsWatched = true
  process.on("unhandledRejection", (reason) => {
    const failed = runningFunction.getStore()
    // Anything else ends the process, as it does in Node without this listener.
    if (!failed) throw reason
    failed(reason)
  })
}

/**
 * A Gatsby Function, with the request and response it gets under `gatsby serve`: the request's own
 * stream (Gatsby's compiled wrapper parses the body with the function's own bodyParser config, and the
 * params from originalUrl), its query and cookies, and Node's response with Express's status, send,
 * json and redirect. The function answers by itself, so fastify leaves the response to it.
 * @param {GatsbyFunction} run
 * @param {FastifyRequest} request
 * @param {FastifyReply} reply
 * @param {Array<{ key: string, value: string }>} headers the headers that gatsby-config gives its path
 * @param {(error: unknown, res: import("node:http").ServerResponse) => void} onFailure
 */
function runFunction(run, request, reply, headers, onFailure) {
  watchFunctionRejections()
  reply.hijack()
  const res = expressResponse(reply.raw, request.method)
  for (const { key, value } of headers) res.setHeader(key, value)
  const req = Object.assign(request.raw, {
    originalUrl: request.url,
    rawUrl: `${request.protocol}://${request.host}${request.url}`,
    query: /** @type {Record<string, string>} */ (request.query),
    params: {},
    cookies: safeCookies(request.headers.cookie),
  })
  /** @type {FailureHandler} */
  const failed = (error) => onFailure(error, res)
  try {
    const result = runningFunction.run(failed, () =>
      run(/** @type {GatsbyFunctionRequest} */ (/** @type {unknown} */ (req)), res),
    )
    // A function that is not wrapped (Gatsby's wrapper returns nothing) may return its promise.
    if (result instanceof Promise) result.catch(failed)
  } catch (error) {
    failed(error)
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
 * @param {import("node:http").ServerResponse} raw @param {string} method
 * @returns {GatsbyFunctionResponse}
 */
function expressResponse(raw, method) {
  /** @param {string} type @param {string | Buffer} body */
  const end = (type, body) => {
    if (!res.hasHeader("content-type")) res.setHeader("content-type", type)
    res.setHeader("content-length", Buffer.byteLength(body))
    res.end(method === "HEAD" ? undefined : body)
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
        return end(
          "text/plain; charset=utf-8",
          `${STATUS_CODES[status] ?? "Redirecting"}. Redirecting to ${location}\n`,
        )
      },
    })
  )
  return res
}

module.exports = { loadFunction, renderEngine, runFunction }
