// @ts-check
// A render by Gatsby's SSR engine: the engine is written for Express, so it gets the part of Express's
// request and response it uses, and its answer is collected for the server to send or keep; each
// render says in Server-Timing how long it took and how long each API call of its page took (those the
// page publishes on UPSTREAM_TIMINGS), and gets a weak ETag, made once.
const { AsyncLocalStorage } = require("node:async_hooks")
const diagnosticsChannel = require("node:diagnostics_channel")
const { weakEtag } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {{ status(code: number): EngineResponse, setHeader(name: string, value: string | string[]): EngineResponse,
 *   send(body?: unknown): void, json(body: unknown): void }} EngineResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown }} EngineRequest
 * @typedef {(req: EngineRequest, res: EngineResponse) => Promise<void>} Engine
 */

// A page's calls to an API publish { api, ms } here (the site's src/upstream/client.ts does), each
// shown in the page's Server-Timing.
const UPSTREAM_TIMINGS = "gatsby-adapter-node:upstream-timing"

/**
 * @param {{ engines: Map<string, { handler: Engine }> }} options engines: what Gatsby compiled, by functionId
 */
function createRenderer({ engines }) {
  /** @type {AsyncLocalStorage<Array<{ api?: unknown, ms?: unknown }>>} the API calls of the render in progress */
  const timings = new AsyncLocalStorage()
  const onTiming = (/** @type {unknown} */ message) =>
    timings.getStore()?.push(/** @type {{ api?: unknown, ms?: unknown }} */ (message))
  diagnosticsChannel.subscribe(UPSTREAM_TIMINGS, onTiming)

  return {
    /** @param {FunctionRoute} route @param {FastifyRequest} request @param {string} method @returns {Promise<Rendered>} */
    async render(route, request, method) {
      const engine = /** @type {{ handler: Engine }} */ (engines.get(route.functionId)).handler
      const started = performance.now()
      /** @type {Array<{ api?: unknown, ms?: unknown }>} */
      const calls = []
      const rendered = await timings.run(calls, () => renderEngine(engine, engineRequest(request, method)))
      // For a browser's devtools: how long the page took to render, its API calls included, and each call.
      rendered.headers["server-timing"] = [
        `engine;dur=${(performance.now() - started).toFixed(1)}`,
        ...calls.map(
          ({ api, ms }) => `upstream;desc=${JSON.stringify(String(api))};dur=${Number(ms).toFixed(1)}`,
        ),
      ].join(", ")
      // A weak ETag, made once per render, so that a client that has the page gets 304, and the cache's
      // answers are not hashed again. Weak, as a compressed answer is the same page in other bytes.
      rendered.headers.etag ??= weakEtag(rendered.body)
      return rendered
    },
    stop: () => diagnosticsChannel.unsubscribe(UPSTREAM_TIMINGS, onTiming),
  }
}

/**
 * What Gatsby's SSR engine answers for a request: it gets the part of Express's response it uses
 * (status, setHeader, send and json), which collects the answer.
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

module.exports = { createRenderer, renderEngine }
