// @ts-check
// Pages that Gatsby's SSR engine renders (getServerData pages, DSG pages, and their page-data): from the
// shared cache when it has them (response-cache.js), and kept there when their answer allows. A stale
// answer within stale-while-revalidate is sent while one render (not one per request) replaces it; if
// that render fails, the stale answer stays until its window ends.
const { AsyncLocalStorage } = require("node:async_hooks")
const diagnosticsChannel = require("node:diagnostics_channel")
const zlib = require("node:zlib")
const { negotiate } = require("@fastify/accept-negotiator")
const { LRUCache } = require("lru-cache")
const { notModifiedHeaders } = require("./not-modified")
const { createResponseCache, weakEtag } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {import("./response-cache").CacheRequest} CacheRequest
 * @typedef {{ status(code: number): EngineResponse, setHeader(name: string, value: string | string[]): EngineResponse,
 *   send(body?: unknown): void, json(body: unknown): void }} EngineResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown }} EngineRequest
 * @typedef {(req: EngineRequest, res: EngineResponse) => Promise<void>} Engine
 */

const CACHEABLE_METHODS = ["GET", "HEAD"]
// A page's calls to an API publish { api, ms } here (the site's src/upstream/client.ts does), each
// shown in the page's Server-Timing.
const UPSTREAM_TIMINGS = "gatsby-adapter-node:upstream-timing"
// A kept page is compressed once, when it is kept, rather than at each request: brotli at a quality
// that takes about as long as gzip's default (about a millisecond for a page of 30 KB).
const BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }
const MIN_COMPRESSED_BYTES = 1024
const COMPRESSIBLE_TYPE = /^(text\/|application\/(json|javascript|xml))/

/**
 * @param {{ engines: Map<string, { handler: Engine }>, cacheBytes: number, everyPath: Record<string, string>,
 *   reportFailure: (error: unknown, request: FastifyRequest) => void, shared?: import("./shared-cache").SharedCache,
 *   onLookup?: (result: "hit" | "stale" | "miss", request: FastifyRequest, tier: "memory" | "shared") => void }} options
 *   engines: what Gatsby compiled, by functionId; cacheBytes: the shared cache's bound (0: none);
 *   everyPath: the headers Gatsby gives every path, under a page's own; shared: the fleet's tier of the
 *   cache, behind this server's memory (shared-cache.js); onLookup: told what each
 *   look-up in the cache found
 */
function engineStage({ engines, cacheBytes, everyPath, reportFailure, shared, onLookup }) {
  const cache = cacheBytes ? createResponseCache({ maxBytes: cacheBytes }) : undefined
  /** @type {AsyncLocalStorage<Array<{ api?: unknown, ms?: unknown }>>} the API calls of the render in progress */
  const timings = new AsyncLocalStorage()
  const onTiming = (/** @type {unknown} */ message) =>
    timings.getStore()?.push(/** @type {{ api?: unknown, ms?: unknown }} */ (message))
  diagnosticsChannel.subscribe(UPSTREAM_TIMINGS, onTiming)
  /** @type {Set<string>} the cache keys that one render is renewing */
  const revalidating = new Set()
  /** @type {Map<string, Promise<Rendered | undefined>>} the renders in flight that other requests may wait for */
  const rendering = new Map()
  /** @type {LRUCache<string, true>} the pages whose last answer was not kept, which no request waits for */
  const notKept = new LRUCache({ max: 10_000 })

  /** @param {FunctionRoute} route @param {FastifyRequest} request @param {string} method */
  const render = async (route, request, method) => {
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
  }

  /**
   * Keeps a GET's answer where a shared cache may, with its compressed forms.
   * @param {string} key @param {FastifyRequest} request @param {Rendered} rendered @param {boolean} keptForBuild
   * @returns {boolean} whether it was kept
   */
  const keep = (key, request, rendered, keptForBuild) => {
    if (!cache?.store(key, request, rendered, keptForBuild)) return false
    const type = String(rendered.headers["content-type"] ?? "")
    if (rendered.body.length < MIN_COMPRESSED_BYTES || !COMPRESSIBLE_TYPE.test(type)) return true
    rendered.forms = {
      br: zlib.brotliCompressSync(rendered.body, BROTLI),
      gzip: zlib.gzipSync(rendered.body),
    }
    return true
  }

  /**
   * A fresh page from the cache, for a request that no route has seen yet (server.js's fast lane):
   * only at an address where the engine alone answers, which a page says when it is kept.
   * @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res
   * @returns {boolean} whether it answered
   */
  const answerFromCache = (req, res) => {
    if (!cache || (req.method !== "GET" && req.method !== "HEAD")) return false
    const hit = cache.lookup(/** @type {string} */ (req.url), /** @type {CacheRequest} */ (req))
    if (!hit || hit.stale || !hit.rendered.alone) return false
    sendKept(hit, [], req, res)
    return true
  }

  /**
   * A kept answer, with the headers Gatsby gives every path, 304 to a client that has it, and the
   * compressed form that a client accepts.
   * @param {import("./response-cache").Hit} hit @param {string[]} vary
   * @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res
   */
  const sendKept = ({ rendered, headers }, vary, req, res) => {
    /** @type {Record<string, string | string[]>} */
    const sent = { ...everyPath, ...headers, "server-timing": 'cache;desc="hit"' }
    const { forms } = rendered
    // The page's own Vary, the address's (redirect conditions), and Accept-Encoding where it has forms.
    const varyBy = [headers.vary ?? [], vary, forms ? "accept-encoding" : []].flat()
    if (varyBy.length) sent.vary = varyBy.join(", ")
    if (req.headers["if-none-match"] === headers.etag && rendered.status === 200) {
      res.writeHead(304, notModifiedHeaders(sent))
      return void res.end()
    }
    const accepted = req.headers["accept-encoding"]
    const encoding = forms && accepted ? negotiate(accepted, ["br", "gzip"]) : undefined
    const body = encoding ? forms?.[/** @type {"br" | "gzip"} */ (encoding)] : rendered.body
    if (encoding) sent["content-encoding"] = encoding
    sent["content-length"] = String(body?.length ?? 0)
    res.writeHead(rendered.status, sent)
    res.end(req.method === "HEAD" ? undefined : body)
  }

  /**
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply
   * @param {{ alone: boolean, vary: string[] }} address alone: whether the engine is all that answers
   *   at the request's address (no redirect, no condition); vary: the request headers the address varies by
   */
  const renderPage = async (route, request, reply, { alone, vary }) => {
    const key = request.url
    // DSG pages (the manifest's cache flag): Gatsby renders them once, so they are kept for the build's life.
    const keptForBuild = route.cache === true
    const cacheable = cache && CACHEABLE_METHODS.includes(request.method)
    let hit = cacheable ? cache.lookup(key, request) : undefined
    let tier = /** @type {"memory" | "shared"} */ ("memory")
    // Not in this server's memory: maybe another server of the fleet kept it.
    if (cacheable && !hit && shared && !notKept.has(key)) {
      const found = await shared.get(key)
      if (found.kind === "not-kept") notKept.set(key, true)
      if (found.kind === "kept" && cache.restore(key, found.stored)) {
        hit = cache.lookup(key, request)
        tier = "shared"
      }
    }
    if (cache) onLookup?.(hit ? (hit.stale ? "stale" : "hit") : "miss", request, tier)
    if (hit) {
      if (hit.stale && !revalidating.has(key)) {
        revalidating.add(key)
        revalidate(route, request, key, { alone, keptForBuild })
          .catch((/** @type {unknown} */ error) => reportFailure(error, request))
          .finally(() => revalidating.delete(key))
      }
      reply.hijack()
      return sendKept(hit, vary, request.raw, reply.raw)
    }
    // Requests for a page that a render in flight may keep wait for it, rather than render it again
    // each (request coalescing, as Varnish does it), and across the fleet (renderOnce); a page that
    // was not kept is marked, so that requests for it render at once from then on (Varnish's
    // hit-for-miss).
    const mayCoalesce = cache && request.method === "GET" && !notKept.has(key)
    const leader = mayCoalesce ? rendering.get(key) : undefined
    if (leader) await leader.catch(() => undefined)
    const keptMeanwhile = leader ? cache?.lookup(key, request) : undefined
    if (keptMeanwhile) {
      reply.hijack()
      return sendKept(keptMeanwhile, vary, request.raw, reply.raw)
    }
    // Asked again after the wait: the leader's render may have marked the page as not kept.
    const coalesce = mayCoalesce && !rendering.has(key) && !notKept.has(key)
    const ownRender = coalesce
      ? renderOnce(route, request, key, { alone, keptForBuild })
      : render(route, request, request.method).then((rendered) => {
          if (request.method === "GET" && cache) keepRendered(key, request, rendered, { alone, keptForBuild })
          return rendered
        })
    if (coalesce) rendering.set(key, ownRender)
    let rendered
    try {
      rendered = await ownRender
    } finally {
      if (coalesce) rendering.delete(key)
    }
    // Kept by another server of the fleet while this one waited for it.
    const kept = rendered ? undefined : cache?.lookup(key, request)
    if (kept) {
      reply.hijack()
      return sendKept(kept, vary, request.raw, reply.raw)
    }
    rendered ??= await render(route, request, request.method)
    // A client that has the page gets 304, by the page's ETag (made once per render, above).
    if (rendered.status === 200 && request.headers["if-none-match"] === rendered.headers.etag) {
      return reply.code(304).headers(notModifiedHeaders(rendered.headers)).send()
    }
    return reply.code(rendered.status).headers(rendered.headers).send(rendered.body)
  }

  /**
   * Keeps a GET's answer where a shared cache may, in memory and for the fleet, or marks the page as
   * not kept.
   * @param {string} key @param {FastifyRequest} request @param {Rendered} rendered
   * @param {{ alone: boolean, keptForBuild: boolean }} page
   */
  const keepRendered = (key, request, rendered, { alone, keptForBuild }) => {
    rendered.alone = alone
    const known = notKept.has(key)
    if (keep(key, request, rendered, keptForBuild)) {
      notKept.delete(key)
      shared?.put(key, cache?.kept(key))
    } else {
      notKept.set(key, true)
      // The fleet hears once that it need not wait for this page, not at every render of it.
      if (!known) shared?.put(key, undefined)
    }
  }

  /**
   * Renders a page that the cache may keep, once across the fleet where there is a shared tier: the
   * server that takes the store's lock renders and keeps it, the others wait for it (and render
   * anyway past the wait, or when the store cannot say).
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key
   * @param {{ alone: boolean, keptForBuild: boolean }} page
   * @returns {Promise<Rendered | undefined>} the answer; undefined where another server kept it, which
   *   memory now has
   */
  const renderOnce = async (route, request, key, page) => {
    const token = shared ? await shared.lock(key) : undefined
    if (shared && token === "held") {
      const found = await shared.waitFor(key)
      if (found.kind === "kept" && cache?.restore(key, found.stored)) return undefined
    }
    try {
      const rendered = await render(route, request, "GET")
      keepRendered(key, request, rendered, page)
      return rendered
    } finally {
      if (token && token !== "held") shared?.release(key, token)
    }
  }

  /**
   * Renews a stale page while it is sent: once across the fleet, as renderOnce, but nobody waits for
   * it, and a render that fails (5xx) leaves the stale page until its window ends.
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key
   * @param {{ alone: boolean, keptForBuild: boolean }} page
   */
  const revalidate = async (route, request, key, page) => {
    if (shared) {
      // Another server may have renewed it already.
      const found = await shared.get(key)
      const mine = cache?.kept(key)
      if (found.kind === "kept" && found.stored.storedAt > (mine?.storedAt ?? 0)) {
        if (cache?.restore(key, found.stored)) return
      }
    }
    const token = shared ? await shared.lock(key) : undefined
    if (token === "held") return
    try {
      const rendered = await render(route, request, "GET")
      if (rendered.status < 500) keepRendered(key, request, rendered, page)
    } finally {
      if (token) shared?.release(key, token)
    }
  }

  return {
    renderPage,
    answerFromCache,
    stop: async () => {
      diagnosticsChannel.unsubscribe(UPSTREAM_TIMINGS, onTiming)
      await shared?.close()
    },
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
