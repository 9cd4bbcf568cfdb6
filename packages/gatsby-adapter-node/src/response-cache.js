// @ts-check
// A shared cache, in memory, of what the SSR engine renders, for a site served without a CDN in front:
// it keeps what a CDN would, by the rules of a shared cache (RFC 9111, as http-cache-semantics reads
// them), in an LRU bounded in bytes (lru-cache), with each page's brotli and gzip forms, made once as it
// is kept. DSG pages are kept for the life of the build.
// No visitor's credentials are kept, nor any page made for them: a render for a request that carried
// Cookie or Authorization is kept only if its answer varies by that header (as Next.js treats a page
// that reads cookies()), and an answer that varies by one is matched by a keyed digest of its value,
// never the value itself; of a request, only the headers the answer varies by are kept.
const { createHash, createHmac } = require("node:crypto")
const zlib = require("node:zlib")
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
 * @typedef {"kept" | "not-kept" | "personal"} Stored what store() did: kept it; found it not one to keep
 *   (and forgot the key's earlier answer); or found it made for one visitor's credentials, and left the
 *   key's earlier answer as it was
 */

// The request headers that carry one visitor's credentials.
const CREDENTIALS = ["cookie", "authorization"]
// A kept page is compressed once, when it is kept, rather than at each request: brotli at a quality
// that takes about as long as gzip's default (about a millisecond for a page of 30 KB).
const BROTLI = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }
const MIN_COMPRESSED_BYTES = 1024
const COMPRESSIBLE_TYPE = /^(text\/|application\/(json|javascript|xml))/

/**
 * @param {{ maxBytes: number, secret: string }} options
 *   maxBytes: the bound of what is kept (bodies, their compressed forms, headers and policies); one
 *   answer may take at most a sixteenth of it. secret: the key of the digests that stand for a
 *   visitor's Cookie or Authorization (the build's own, so that every server of a fleet makes the same)
 */
function createResponseCache({ maxBytes, secret }) {
  /** @type {LRUCache<string, Kept>} */
  const entries = new LRUCache({
    maxSize: maxBytes,
    maxEntrySize: Math.max(1, Math.floor(maxBytes / 16)),
    sizeCalculation: sizeOf,
    // Expiry in lru-cache only frees the memory of what the policy no longer allows; the policy decides.
    // Both read Date.now, so that they keep one time.
    perf: { now: () => Date.now() },
  })

  /** @param {string | string[] | undefined} value */
  const digest = (value) =>
    value === undefined ? undefined : createHmac("sha256", secret).update(String(value)).digest("base64url")

  /**
   * The request as a shared cache compares it: a client's own Cache-Control (a browser's reload sends
   * max-age=0) does not make it render again, as it does not on most CDNs (anyone could); the key is
   * the path and query, whatever the Host (a fleet's servers may each be asked by a name of their
   * own); credentials as their digests; a HEAD as the GET whose answer it is given.
   * @param {CacheRequest} request
   */
  const asShared = ({ url, headers }) => {
    const rest = { ...headers }
    delete rest["cache-control"]
    delete rest.pragma
    delete rest.host
    for (const name of CREDENTIALS) if (name in rest) rest[name] = digest(rest[name])
    return { method: "GET", url, headers: rest }
  }

  /**
   * What a policy keeps of the request it was made for: the headers the answer varies by (credentials
   * as their digests), nothing else. (http-cache-semantics would keep every header of it
   * where the answer has a Vary, and the fleet's store would then hold them: a visitor's cookie.)
   * @param {CacheRequest} request @param {string[]} varyBy
   */
  const asKept = ({ url, headers }, varyBy) => {
    /** @type {Record<string, string | string[] | undefined>} */
    const kept = {}
    for (const name of varyBy) {
      if (name in headers) kept[name] = CREDENTIALS.includes(name) ? digest(headers[name]) : headers[name]
    }
    return { method: "GET", url, headers: kept }
  }

  /**
   * Keeps an answer kept before, here or by another server (shared-cache.js), for what is left of its
   * life.
   * @param {string} key @param {Omit<Kept, "fresh">} kept @returns {boolean} whether it was kept
   */
  const restore = (key, { rendered, storedAt, policy }) => {
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
     * Keeps a GET's answer if a shared cache may, with its compressed forms, and forgets the key's
     * earlier one if not. A DSG page (keptForBuild) is kept until the server stops, as Gatsby builds it
     * once.
     * @param {string} key @param {CacheRequest} request @param {Rendered} rendered @param {boolean} keptForBuild
     * @returns {Stored}
     */
    store(key, request, rendered, keptForBuild) {
      const { headers } = rendered
      const varyBy = varyNames(headers)
      // A page may show what it read of these: one visitor's page, unless it says it varies by them.
      if (CREDENTIALS.some((name) => name in request.headers && !varyBy.includes(name))) return "personal"
      const mayKeep =
        request.method === "GET" &&
        rendered.status === 200 &&
        // A cookie is one visitor's; http-cache-semantics would keep a public answer that sets one.
        !("set-cookie" in headers) &&
        // Without either, no answer is fresh for a moment (most server-rendered pages): no policy to read.
        (keptForBuild || "cache-control" in headers || "expires" in headers)
      const policy =
        mayKeep && !keptForBuild
          ? new CachePolicy(asKept(request, varyBy), rendered, { shared: true })
          : undefined
      if (!mayKeep || (policy && !(policy.storable() && policy.timeToLive() > 0))) {
        entries.delete(key)
        return "not-kept"
      }
      rendered.forms ??= compressedForms(rendered)
      return restore(key, { rendered, storedAt: Date.now(), policy }) ? "kept" : "not-kept"
    },

    /**
     * What the cache keeps at a key, as the shared tier stores it (shared-cache.js).
     * @param {string} key @returns {Kept | undefined}
     */
    kept: (key) => entries.peek(key),

    restore,

    /** The bytes it holds, by its own count. */
    get bytes() {
      return entries.calculatedSize
    },
  }
}

// The request headers an answer varies by, in lower case.
/** @param {Headers} headers */
function varyNames(headers) {
  const vary = headers.vary
  if (vary === undefined) return []
  return [vary]
    .flat()
    .flatMap((value) => value.split(","))
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean)
}

/** @param {Rendered} rendered @returns {Rendered["forms"]} */
function compressedForms({ body, headers }) {
  const type = String(headers["content-type"] ?? "")
  if (body.length < MIN_COMPRESSED_BYTES || !COMPRESSIBLE_TYPE.test(type)) return undefined
  return { br: zlib.brotliCompressSync(body, BROTLI), gzip: zlib.gzipSync(body) }
}

// What an entry takes: its key, body and compressed forms, and its headers, held once as the answer's
// and once more as a fresh hit's, and its policy (which holds the headers again, and the request's
// that the answer varies by). Strings count a byte a character: headers are ASCII.
/** @param {Kept} kept @param {string} key */
function sizeOf({ rendered, policy }, key) {
  const { body, forms, headers } = rendered
  const headerBytes = JSON.stringify(headers).length
  return (
    key.length +
    body.length +
    (forms ? forms.br.length + forms.gzip.length : 0) +
    headerBytes * 2 +
    (policy ? JSON.stringify(policy.toObject()).length : 0)
  )
}

// The validator of a rendered answer (weak: a compressed answer is the same page in other bytes), made
// once per render, so that the engine stage answers 304 and the cache's answers are not hashed again.
/** @param {Buffer} body */
function weakEtag(body) {
  return `W/"${createHash("sha1").update(body).digest("base64")}"`
}

module.exports = { createResponseCache, weakEtag, CREDENTIALS }
