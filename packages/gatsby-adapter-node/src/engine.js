// @ts-check
// Pages that Gatsby's SSR engine renders (getServerData pages, DSG pages, and their page-data): from the
// shared cache when it has them (response-cache.js), and kept there when their answer allows. A stale
// answer within stale-while-revalidate is sent while one render (not one per request) replaces it; if
// that render fails, the stale answer stays until its window ends.
const { createResponseCache, weakEtag } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {{ status(code: number): EngineResponse, setHeader(name: string, value: string | string[]): EngineResponse,
 *   send(body?: unknown): void, json(body: unknown): void }} EngineResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown }} EngineRequest
 * @typedef {(req: EngineRequest, res: EngineResponse) => Promise<void>} Engine
 */

const CACHEABLE_METHODS = ["GET", "HEAD"]

/**
 * @param {{ engines: Map<string, { handler: Engine }>, cacheBytes: number,
 *   reportFailure: (error: unknown, request: FastifyRequest) => void }} options
 *   engines: what Gatsby compiled, by functionId; cacheBytes: the shared cache's bound (0: none)
 */
function engineStage({ engines, cacheBytes, reportFailure }) {
  const cache = cacheBytes ? createResponseCache({ maxBytes: cacheBytes }) : undefined
  /** @type {Set<string>} the cache keys that one render is renewing */
  const revalidating = new Set()

  /** @param {FunctionRoute} route @param {FastifyRequest} request @param {string} method */
  const render = async (route, request, method) => {
    const engine = /** @type {{ handler: Engine }} */ (engines.get(route.functionId)).handler
    const rendered = await renderEngine(engine, engineRequest(request, method))
    // The ETag that @fastify/etag would make, made once, so that the cache's answers are not hashed again.
    rendered.headers.etag ??= weakEtag(rendered.body)
    return rendered
  }

  /** @param {FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply */
  return async (route, request, reply) => {
    const key = request.url
    // DSG pages (the manifest's cache flag): Gatsby renders them once, so they are kept for the build's life.
    const keptForBuild = route.cache === true
    const hit = CACHEABLE_METHODS.includes(request.method) ? cache?.lookup(key, request) : undefined
    if (hit) {
      if (hit.stale && !revalidating.has(key)) {
        revalidating.add(key)
        render(route, request, "GET")
          .then((rendered) => {
            if (rendered.status < 500) cache?.store(key, request, rendered, keptForBuild)
          })
          .catch((/** @type {unknown} */ error) => reportFailure(error, request))
          .finally(() => revalidating.delete(key))
      }
      return reply.code(hit.rendered.status).headers(hit.headers).send(hit.rendered.body)
    }
    const rendered = await render(route, request, request.method)
    if (request.method === "GET") cache?.store(key, request, rendered, keptForBuild)
    return reply.code(rendered.status).headers(rendered.headers).send(rendered.body)
  }
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

// What the engine is given of a request: the path alone (it finds the page by it), and the URL whole.
/** @param {FastifyRequest} request @param {string} method @returns {EngineRequest} */
function engineRequest(request, method) {
  const query = request.url.indexOf("?")
  return {
    url: query === -1 ? request.url : request.url.slice(0, query),
    rawUrl: `${request.protocol}://${request.host}${request.url}`,
    method,
    headers: request.headers,
    query: request.query,
  }
}

module.exports = { engineStage, renderEngine }
