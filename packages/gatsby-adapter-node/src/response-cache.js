// @ts-check
// A shared cache, in memory, of what the SSR engine renders, for a site served without a CDN in front:
// it keeps what a CDN would, by the rules of a shared cache (RFC 9111, as http-cache-semantics reads
// them), in an LRU bounded in bytes (lru-cache). DSG pages are kept for the life of the build.
const { createHash } = require("node:crypto")
const CachePolicy = require("http-cache-semantics")
const { LRUCache } = require("lru-cache")

/**
 * @typedef {Record<string, string | string[]>} Headers
 * @typedef {{ status: number, headers: Headers, body: Buffer, forms?: { br: Buffer, gzip: Buffer },
 *   alone?: boolean }} Rendered what the engine answered; forms: its compressed forms, once made;
 *   alone: whether the engine is all that answers at its address
 * @typedef {{ method: string, url: string, headers: import("node:http").IncomingHttpHeaders }} CacheRequest
 * @typedef {{ rendered: Rendered, storedAt: number, policy?: CachePolicy,
 *   fresh?: { at: number, until: number, age: number, headers: Headers } }} Kept an answer kept; no policy:
 *   a DSG page; storedAt: when it was rendered, here or by another server; fresh: for an answer that
 *   varies by no request header, its age at a time, until when it is fresh, and its headers, so that a
 *   hit within that time needs no policy to read
 * @typedef {{ rendered: Rendered, headers: Headers, stale: boolean }} Hit
 *   headers: the answer's, with Age; stale: past its freshness, within stale-while-revalidate
 */

/**
 * @param {{ maxBytes: number }} options
 *   maxBytes: the bound of the bodies and headers kept; one answer may take at most a sixteenth of it.
 */
function createResponseCache({ maxBytes }) {
  /** @type {LRUCache<string, Kept>} */
  const entries = new LRUCache({
    maxSize: maxBytes,
    maxEntrySize: Math.max(1, Math.floor(maxBytes / 16)),
    sizeCalculation: ({ rendered }, key) =>
      key.length + rendered.body.length + JSON.stringify(rendered.headers).length,
    // Expiry in lru-cache only frees the memory of what the policy no longer allows; the policy decides.
    // Both read Date.now, so that they keep one time.
    perf: { now: () => Date.now() },
  })

  /**
   * The policy as a shared cache reads it. A client's own Cache-Control (a browser's reload sends
   * max-age=0) does not make it render again, as it does not on most CDNs: anyone could.
   * @param {CacheRequest} request
   */
  const asShared = ({ url, headers }) => {
    const rest = { ...headers }
    delete rest["cache-control"]
    delete rest.pragma
    // A HEAD is answered from what a GET stored.
    return { method: "GET", url, headers: rest }
  }

  return {
    /**
     * What the cache may answer for this request, or nothing: it has none, its own is past use, or the
     * request differs in a header the answer varies by.
     * @param {string} key @param {CacheRequest} request @returns {Hit | undefined}
     */
    lookup(key, request) {
      const entry = entries.get(key)
      if (!entry) return undefined
      const { rendered, storedAt, policy, fresh } = entry
      const now = Date.now()
      if (!policy) {
        const age = String(Math.floor((now - storedAt) / 1000))
        return { rendered, headers: { ...rendered.headers, age }, stale: false }
      }
      if (fresh && now < fresh.until) {
        const age = String(Math.floor(fresh.age + (now - fresh.at) / 1000))
        return { rendered, headers: { ...fresh.headers, age }, stale: false }
      }
      const { response, revalidation } = policy.evaluateRequest(asShared(request))
      if (!response) return undefined
      return { rendered, headers: /** @type {Headers} */ (response.headers), stale: Boolean(revalidation) }
    },

    /**
     * Keeps a GET's answer if a shared cache may, and forgets the key's earlier one if not. A DSG
     * page (keptForBuild) is kept until the server stops, as Gatsby builds it once.
     * @param {string} key @param {CacheRequest} request @param {Rendered} rendered @param {boolean} keptForBuild
     * @returns {boolean} whether it was kept
     */
    store(key, request, rendered, keptForBuild) {
      const { headers } = rendered
      const mayKeep =
        request.method === "GET" &&
        rendered.status === 200 &&
        // A cookie is one visitor's; http-cache-semantics would keep a public answer that sets one.
        !("set-cookie" in headers) &&
        // Without either, no answer is fresh for a moment (most server-rendered pages): no policy to read.
        (keptForBuild || "cache-control" in headers || "expires" in headers)
      const policy =
        mayKeep && !keptForBuild ? new CachePolicy(asShared(request), rendered, { shared: true }) : undefined
      if (!mayKeep || (policy && !(policy.storable() && policy.timeToLive() > 0))) {
        entries.delete(key)
        return false
      }
      return this.restore(key, { rendered, storedAt: Date.now(), policy })
    },

    /**
     * What the cache keeps at a key, as the shared tier stores it (shared-cache.js).
     * @param {string} key @returns {Kept | undefined}
     */
    kept: (key) => entries.peek(key),

    /**
     * Keeps an answer kept before, here or by another server (shared-cache.js), for what is left of its
     * life.
     * @param {string} key @param {Omit<Kept, "fresh">} kept @returns {boolean} whether it was kept
     */
    restore(key, { rendered, storedAt, policy }) {
      /** @type {Kept["fresh"]} */
      let fresh
      if (policy && !("vary" in rendered.headers)) {
        const age = policy.age()
        const at = Date.now()
        fresh = {
          at,
          until: at + (policy.maxAge() - age) * 1000,
          age,
          headers: /** @type {Headers} */ (policy.responseHeaders()),
        }
      }
      const ttl = policy ? policy.timeToLive() : 0
      if (policy && ttl <= 0) return false
      entries.set(key, { rendered, storedAt, policy, fresh }, { ttl })
      return entries.has(key)
    },
  }
}

// The validator of a rendered answer (weak: a compressed answer is the same page in other bytes), made
// once per render, so that the engine stage answers 304 and the cache's answers are not hashed again.
/** @param {Buffer} body */
function weakEtag(body) {
  return `W/"${createHash("sha1").update(body).digest("base64")}"`
}

module.exports = { createResponseCache, weakEtag }
