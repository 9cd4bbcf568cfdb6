// @ts-check
// Pages that Gatsby's SSR engine renders (getServerData pages, DSG pages, and their page-data): from the
// cache when it has them (response-cache.js, then the fleet's store, shared-cache.js), and kept there when
// their answer allows. A stale answer within stale-while-revalidate is sent while one render (not one per
// request) replaces it; if that render fails, the stale answer stays until its window ends. Requests that
// come together for a page the cache may keep wait for one render, here and across the fleet.
const { AsyncLocalStorage } = require("node:async_hooks")
const diagnosticsChannel = require("node:diagnostics_channel")
const { negotiate } = require("@fastify/accept-negotiator")
const { LRUCache } = require("lru-cache")
const { notModifiedHeaders } = require("./not-modified")
const { CREDENTIALS, createResponseCache, weakEtag } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {import("./response-cache").Hit} Hit
 * @typedef {import("./response-cache").CacheRequest} CacheRequest
 * @typedef {{ status(code: number): EngineResponse, setHeader(name: string, value: string | string[]): EngineResponse,
 *   send(body?: unknown): void, json(body: unknown): void }} EngineResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown }} EngineRequest
 * @typedef {(req: EngineRequest, res: EngineResponse) => Promise<void>} Engine
 * @typedef {{ alone: boolean, keptForBuild: boolean }} Page alone: whether the engine is all that answers
 *   at its address (no redirect, no condition); keptForBuild: a DSG page, kept for the build's life
 * @typedef {{ hit: Hit } | { rendered: Rendered, storeMs: number }} Answer
 */

const CACHEABLE_METHODS = ["GET", "HEAD"]
// A page's calls to an API publish { api, ms } here (the site's src/upstream/client.ts does), each
// shown in the page's Server-Timing.
const UPSTREAM_TIMINGS = "gatsby-adapter-node:upstream-timing"
// How long, at most, a request waits for the renders of others before it renders itself (as long as
// it waits for another server's, shared-cache.js).
const WAIT_MS = 5_000

/**
 * @param {{ engines: Map<string, { handler: Engine }>, cacheBytes: number, secret: string,
 *   everyPath: Record<string, string>, reportFailure: (error: unknown, request: FastifyRequest) => void,
 *   shared?: import("./shared-cache").SharedCache,
 *   onLookup?: (result: "hit" | "stale" | "miss", request: FastifyRequest, tier: "memory" | "shared") => void,
 *   onPersonal?: (route: FunctionRoute, header: string) => void }} options
 *   engines: what Gatsby compiled, by functionId; cacheBytes: the cache's bound (0: none); secret: the
 *   key of the digests that stand for credentials in it; everyPath: the headers Gatsby gives every
 *   path, under a page's own; shared: the fleet's tier of the cache, behind this server's memory;
 *   onLookup: told what each look-up in the cache found; onPersonal: told of a page that was not kept
 *   because it was rendered for a visitor's credentials (header) and does not vary by them
 */
function engineStage({
  engines,
  cacheBytes,
  secret,
  everyPath,
  reportFailure,
  shared,
  onLookup,
  onPersonal,
}) {
  const cache = cacheBytes ? createResponseCache({ maxBytes: cacheBytes, secret }) : undefined
  /** @type {AsyncLocalStorage<Array<{ api?: unknown, ms?: unknown }>>} the API calls of the render in progress */
  const timings = new AsyncLocalStorage()
  const onTiming = (/** @type {unknown} */ message) =>
    timings.getStore()?.push(/** @type {{ api?: unknown, ms?: unknown }} */ (message))
  diagnosticsChannel.subscribe(UPSTREAM_TIMINGS, onTiming)
  /** @type {Set<string>} the cache keys that one render is renewing */
  const revalidating = new Set()
  /** @type {Map<string, Promise<Answer>>} the renders in flight that other requests may wait for */
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
   * @param {Hit} hit @param {string[]} vary
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
   * The page from the cache: this server's memory, else the fleet's store.
   * @param {string} key @param {FastifyRequest} request
   * @returns {Promise<{ hit: Hit | undefined, tier: "memory" | "shared", storeMs: number }>}
   */
  const lookup = async (key, request) => {
    const hit = cache?.lookup(key, request)
    if (hit || !shared || notKept.has(key)) return { hit, tier: "memory", storeMs: 0 }
    const started = performance.now()
    const found = await shared.get(key)
    const storeMs = performance.now() - started
    if (found.kind === "not-kept") notKept.set(key, true)
    const restored = found.kind === "kept" && cache?.restore(key, found.stored)
    const fromStore = restored ? cache?.lookup(key, request) : undefined
    return { hit: fromStore, tier: fromStore ? "shared" : "memory", storeMs }
  }

  /**
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply
   * @param {{ alone: boolean, vary: string[] }} address alone: whether the engine is all that answers
   *   at the request's address (no redirect, no condition); vary: the request headers the address varies by
   */
  const renderPage = async (route, request, reply, { alone, vary }) => {
    const key = request.url
    const page = { alone, keptForBuild: route.cache === true }
    let storeMs = 0
    if (cache && CACHEABLE_METHODS.includes(request.method)) {
      const looked = await lookup(key, request)
      storeMs = looked.storeMs
      const { hit, tier } = looked
      onLookup?.(hit ? (hit.stale ? "stale" : "hit") : "miss", request, tier)
      if (hit?.stale && !revalidating.has(key)) {
        revalidating.add(key)
        revalidate(route, request, key, page)
          .catch((/** @type {unknown} */ error) => reportFailure(error, request))
          .finally(() => revalidating.delete(key))
      }
      if (hit) return sendHit(hit, vary, reply)
    }
    // A visitor's credentials may make the page theirs alone: such a request neither waits for another's
    // render nor has others wait for its own, and a page marked as not kept is rendered at once.
    const together =
      cache &&
      request.method === "GET" &&
      !CREDENTIALS.some((name) => name in request.headers) &&
      !notKept.has(key)
    const answer = together
      ? await renderTogether(route, request, key, page)
      : { rendered: await renderAlone(route, request, key, page), storeMs: 0 }
    if ("hit" in answer) return sendHit(answer.hit, vary, reply)
    const { rendered } = answer
    const timing = [rendered.headers["server-timing"], ...storeTiming(storeMs + answer.storeMs)].join(", ")
    // A client that has the page gets 304, by the page's ETag (made once per render, above).
    if (rendered.status === 200 && request.headers["if-none-match"] === rendered.headers.etag) {
      return reply
        .code(304)
        .headers(notModifiedHeaders(rendered.headers))
        .header("server-timing", timing)
        .send()
    }
    return reply
      .code(rendered.status)
      .headers(rendered.headers)
      .header("server-timing", timing)
      .send(rendered.body)
  }

  /** @param {Hit} hit @param {string[]} vary @param {FastifyReply} reply */
  const sendHit = (hit, vary, reply) => {
    reply.hijack()
    sendKept(hit, vary, reply.request.raw, reply.raw)
  }

  /**
   * A render of this request's own, kept where the cache may keep it (a GET).
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   */
  const renderAlone = async (route, request, key, page) => {
    const rendered = await render(route, request, request.method)
    if (request.method === "GET") keepRendered(route, key, request, rendered, page)
    return rendered
  }

  /**
   * One render for the requests that ask for a page together: a request waits for the one in flight
   * (Varnish's request coalescing) and is answered from what it kept. When that render failed (5xx, or
   * a throw), one of them renders again and the others wait for it, rather than all at once against an
   * API that just failed; when that one fails too, they get its answer, so that a page that keeps
   * failing costs two renders a batch, not one after another for each. Past WAIT_MS of waiting, and
   * for a page that is not kept, a request renders itself.
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   * @returns {Promise<Answer>}
   */
  const renderTogether = async (route, request, key, page) => {
    const until = Date.now() + WAIT_MS
    let failedBefore = false
    for (let leader = rendering.get(key); leader; leader = rendering.get(key)) {
      const outcome = await settledWithin(leader, until - Date.now())
      const hit = cache?.lookup(key, request)
      if (hit) return { hit }
      const failed =
        outcome &&
        ("error" in outcome || ("rendered" in outcome.answer && outcome.answer.rendered.status >= 500))
      if (!failed || notKept.has(key))
        return { rendered: await renderAlone(route, request, key, page), storeMs: 0 }
      if (failedBefore) {
        if ("error" in outcome) throw outcome.error
        return outcome.answer
      }
      failedBefore = true
    }
    const own = renderOnce(route, request, key, page)
    rendering.set(key, own)
    try {
      return await own
    } finally {
      rendering.delete(key)
    }
  }

  /**
   * Renders a page that the cache may keep, once across the fleet where there is a shared tier: the
   * server that takes the store's lock renders and keeps it, the others wait for it (and render
   * anyway past the wait, or when the store cannot say).
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   * @returns {Promise<Answer>}
   */
  const renderOnce = async (route, request, key, page) => {
    const started = performance.now()
    let token = shared ? await shared.lock(key) : undefined
    /** @type {import("./shared-cache").Found | undefined} */
    let kept
    if (shared && token === "held") {
      const waited = await shared.waitFor(key)
      if (waited.kind === "kept") kept = waited
      token = waited.kind === "leader" ? waited.token : undefined
    } else if (shared && token) {
      // A server that rendered it may have kept it and let the lock go between this one's look-up and
      // its lock: looked up once more, now that nobody else renders it.
      kept = await shared.get(key)
    }
    try {
      if (kept?.kind === "kept" && cache?.restore(key, kept.stored)) {
        const hit = cache.lookup(key, request)
        if (hit) return { hit }
      }
      const storeMs = shared ? performance.now() - started : 0
      return { rendered: await renderAlone(route, request, key, page), storeMs }
    } finally {
      if (token && token !== "held") shared?.release(key, token)
    }
  }

  /**
   * Keeps a GET's answer where a shared cache may, in memory and for the fleet, or marks the page as
   * not kept; a page made for a visitor's credentials is neither.
   * @param {FunctionRoute} route @param {string} key @param {FastifyRequest} request
   * @param {Rendered} rendered @param {Page} page
   */
  const keepRendered = (route, key, request, rendered, { alone, keptForBuild }) => {
    // A failure is neither kept nor a sign that the page never is: the next request renders it again.
    if (!cache || rendered.status >= 500) return
    rendered.alone = alone
    const known = notKept.has(key)
    const stored = cache.store(key, request, rendered, keptForBuild)
    if (stored === "kept") {
      notKept.delete(key)
      shared?.put(key, cache.kept(key))
    } else if (stored === "personal") {
      onPersonal?.(route, /** @type {string} */ (CREDENTIALS.find((name) => name in request.headers)))
    } else {
      notKept.set(key, true)
      // The fleet hears once that it need not wait for this page, not at every render of it.
      if (!known) shared?.put(key, undefined)
    }
  }

  /**
   * Renews a stale page while it is sent: once across the fleet, as renderOnce, but nobody waits for
   * it, and a render that fails (5xx) leaves the stale page until its window ends.
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   */
  const revalidate = async (route, request, key, page) => {
    const mine = cache?.kept(key)
    // Another server may have renewed it already: looked up before the lock, and once more with it
    // (a server that renewed it may have let its lock go in between).
    const renewedElsewhere = async () => {
      const found = shared ? await shared.get(key) : undefined
      return (
        found?.kind === "kept" &&
        found.stored.storedAt > (mine?.storedAt ?? 0) &&
        Boolean(cache?.restore(key, found.stored))
      )
    }
    if (await renewedElsewhere()) return
    const token = shared ? await shared.lock(key) : undefined
    if (token === "held") return
    try {
      if (token && (await renewedElsewhere())) return
      const rendered = await render(route, request, "GET")
      if (rendered.status < 500) keepRendered(route, key, request, rendered, page)
    } finally {
      if (token) shared?.release(key, token)
    }
  }

  return {
    renderPage,
    answerFromCache,
    /** The bytes the cache holds, by its own count. */
    cacheBytes: () => cache?.bytes ?? 0,
    stop: async () => {
      diagnosticsChannel.unsubscribe(UPSTREAM_TIMINGS, onTiming)
      await shared?.close()
    },
  }
}

// How long a page waited for the fleet's store, for Server-Timing, where it asked.
/** @param {number} ms */
function storeTiming(ms) {
  return ms > 0 ? [`store;dur=${ms.toFixed(1)}`] : []
}

/**
 * How a render settled within ms: its answer, or what it threw; undefined if it had not.
 * @param {Promise<Answer>} promise @param {number} ms
 * @returns {Promise<{ answer: Answer } | { error: unknown } | undefined>}
 */
async function settledWithin(promise, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  try {
    return await Promise.race([
      promise.then(
        (answer) => ({ answer }),
        (error) => ({ error }),
      ),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), undefined))),
    ])
  } finally {
    clearTimeout(timer)
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
