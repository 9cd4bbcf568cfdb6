// @ts-check
// The pages a shared cache may keep: this server's memory (response-cache.js), then the fleet's store
// (shared-cache.js), looked up, kept and sent. A page made for a visitor's credentials is neither kept
// nor shared (onPersonal is told); a page whose answer was not kept is remembered, in memory and for
// the fleet, so that no request waits for a render of it.
const { negotiate } = require("@fastify/accept-negotiator")
const { LRUCache } = require("lru-cache")
const { notModifiedHeaders } = require("./not-modified")
const { CREDENTIALS, createResponseCache } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {import("./response-cache").Hit} Hit
 * @typedef {import("./response-cache").CacheRequest} CacheRequest
 * @typedef {{ alone: boolean, keptForBuild: boolean }} Page alone: whether the engine is all that answers
 *   at its address (no redirect, no condition); keptForBuild: a DSG page, kept for the build's life
 */

/**
 * @param {{ cacheBytes: number, secret: string, everyPath: Record<string, string>,
 *   shared?: import("./shared-cache").SharedCache,
 *   onPersonal?: (route: FunctionRoute, header: string) => void }} options
 *   cacheBytes: the memory's bound (0: nothing kept); secret: the key of the digests that stand for
 *   credentials in it; everyPath: the headers Gatsby gives every path, under a page's own; shared: the
 *   fleet's store, behind this server's memory; onPersonal: told of a page that was not kept because it
 *   was rendered for a visitor's credentials (header) and does not vary by them
 */
function keptPages({ cacheBytes, secret, everyPath, shared, onPersonal }) {
  const cache = cacheBytes ? createResponseCache({ maxBytes: cacheBytes, secret }) : undefined
  /** @type {LRUCache<string, true>} the pages whose last answer was not kept, which no request waits for */
  const notKept = new LRUCache({ max: 10_000 })

  /**
   * A kept answer, with the headers Gatsby gives every path, 304 to a client that has it, and the
   * compressed form that a client accepts.
   * @param {Hit} hit @param {string[]} vary
   * @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res
   */
  const send = ({ rendered, headers }, vary, req, res) => {
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

  return {
    /** Whether pages are kept at all (RESPONSE_CACHE_BYTES is not 0). */
    enabled: Boolean(cache),

    send,

    /**
     * A fresh page from memory, for a request that no route has seen yet (server.js's fast lane): only
     * at an address where the engine alone answers, which a page says when it is kept.
     * @param {import("node:http").IncomingMessage} req @param {import("node:http").ServerResponse} res
     * @returns {boolean} whether it answered
     */
    answerFromCache(req, res) {
      if (!cache || (req.method !== "GET" && req.method !== "HEAD")) return false
      const hit = cache.lookup(/** @type {string} */ (req.url), /** @type {CacheRequest} */ (req))
      if (!hit || hit.stale || !hit.rendered.alone) return false
      send(hit, [], req, res)
      return true
    },

    /**
     * The page from this server's memory, else the fleet's store.
     * @param {string} key @param {FastifyRequest} request
     * @returns {Promise<{ hit: Hit | undefined, tier: "memory" | "shared", storeMs: number }>}
     */
    async lookup(key, request) {
      const hit = cache?.lookup(key, request)
      if (hit || !shared || notKept.has(key)) return { hit, tier: "memory", storeMs: 0 }
      const started = performance.now()
      const found = await shared.get(key)
      const storeMs = performance.now() - started
      if (found.kind === "not-kept") notKept.set(key, true)
      const restored = found.kind === "kept" && cache?.restore(key, found.stored)
      const fromStore = restored ? cache?.lookup(key, request) : undefined
      return { hit: fromStore, tier: fromStore ? "shared" : "memory", storeMs }
    },

    /** @param {string} key @param {FastifyRequest} request @returns {Hit | undefined} the page in memory */
    fromMemory: (key, request) => cache?.lookup(key, request),

    /**
     * What the fleet's store had, kept in memory, for this request.
     * @param {string} key @param {import("./shared-cache").Stored} stored @param {FastifyRequest} request
     * @returns {Hit | undefined}
     */
    fromStore: (key, stored, request) =>
      cache?.restore(key, stored) ? cache.lookup(key, request) : undefined,

    /**
     * Whether the store's page is newer than this server's, which it then keeps.
     * @param {string} key @param {import("./shared-cache").Stored} stored @param {number} since
     */
    renewed: (key, stored, since) => stored.storedAt > since && Boolean(cache?.restore(key, stored)),

    /** @param {string} key @returns {number} when this server kept its page, or 0 */
    keptAt: (key) => cache?.kept(key)?.storedAt ?? 0,

    /** @param {string} key whether its last answer was not kept, so that no request waits for it */
    neverKept: (key) => notKept.has(key),

    /**
     * Keeps a GET's answer where a shared cache may, in memory and for the fleet, or marks the page as
     * not kept; a page made for a visitor's credentials is neither.
     * @param {FunctionRoute} route @param {string} key @param {FastifyRequest} request
     * @param {Rendered} rendered @param {Page} page
     */
    keep(route, key, request, rendered, { alone, keptForBuild }) {
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
    },

    /** The bytes the memory holds, by its own count. */
    bytes: () => cache?.bytes ?? 0,
  }
}

module.exports = { keptPages }
