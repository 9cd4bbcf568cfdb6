// @ts-check
// The second tier of the cache of rendered pages: Valkey or Redis at REDIS_URL, which every server of a
// fleet shares (node-redis's client, @redis/client), behind each server's own memory (response-cache.js).
// What it keeps is what memory keeps, the compressed forms included, for the page's own life (s-maxage,
// stale-while-revalidate) or, for a DSG page, a day; under keys that carry the build's id, so that a new
// build never answers with the last one's pages and two builds can share one store. A page that several
// servers are asked for at once is rendered once: one takes a short lock (SET NX PX), the others wait
// for its answer, and render anyway past the wait, as nginx's proxy_cache_lock does; when the lock goes
// without a page (its render failed), one of them takes it and renders, and the others wait on.
// The store failing never fails a page, nor grows a server: every call is bounded in time
// (REDIS_TIMEOUT_MS), a store that is down or slow is treated as a miss, commands are not queued while
// it is away, the calls left waiting on a store that answers nothing are bounded in number and bytes
// (and its connection is dropped once it has said nothing for SOCKET_TIMEOUT_MS), a value it cannot
// decode is a miss, the client reconnects by itself, and each kind of failure is logged once
// (failure-log.js) and counted (metrics.js).
const { randomUUID } = require("node:crypto")
const CachePolicy = require("http-cache-semantics")

/**
 * @typedef {import("./response-cache").Kept} Kept
 * @typedef {Omit<Kept, "fresh">} Stored what the store keeps of a page
 * @typedef {{ kind: "kept", stored: Stored } | { kind: "not-kept" } | { kind: "miss" }} Found
 *   not-kept: a server rendered it, and the answer was not one to keep (Varnish's hit-for-miss)
 * @typedef {Found | { kind: "leader", token: string }} Waited leader: the lock went without a page,
 *   and this server took it: it renders
 * @typedef {ReturnType<typeof createSharedCache>} SharedCache
 */

// How long a lock lasts if its holder never releases it (a server that died mid-render), and how long
// the others wait for its answer before they render themselves (nginx's proxy_cache_lock_timeout).
const LOCK_MS = 10_000
const WAIT_MS = 5_000
const POLL_MS = 25
// A DSG page is kept for the build's life; in the store, a day at most, so that an old build's pages go.
const BUILD_LIFE_MS = 24 * 60 * 60 * 1000
// A page not kept is remembered this long, so that no server waits for it.
const NOT_KEPT_MS = 60_000
// Calls waiting for the store at once, those given up on included until it answers them or the
// connection goes: past this, the store is not asked until they come back. The client holds no more
// (commandsQueueMaxLength), so that a store that answers nothing holds a bounded count of them...
const MAX_PENDING = 256
// ...and a bounded sum of the pages they write.
const MAX_PENDING_BYTES = 16 * 1024 * 1024
// A connection on which the store has said nothing this long, with calls waiting on it (a store frozen,
// or a network that drops everything), is closed and opened again; the calls on it fail, and their
// memory goes with them.
const SOCKET_TIMEOUT_MS = 5_000
// Deletes the lock only if it is still the caller's (it may have expired and another server's be there).
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
const NOT_KEPT = Buffer.from("not-kept")
const TIMED_OUT = Symbol("timed out")

/**
 * @param {{ url: string, timeoutMs: number, buildId: string,
 *   onFailure: (reason: string, error: unknown) => void, onBack: () => void }} options
 *   onFailure: told of each failed or timed-out call, each lost connection and each value it cannot
 *   decode, with its reason ("timeout", "unavailable", "undecodable", or the error's code); onBack: told
 *   when the store answers again
 */
function createSharedCache({ url, timeoutMs, buildId, onFailure, onBack }) {
  const { createClient, RESP_TYPES } = require("@redis/client")
  let down = false
  const client = createClient({
    url,
    // A call while the store is away fails at once rather than wait in a queue for it.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_PENDING,
    // A PING when the connection is idle, so that a healthy one is never closed for saying nothing.
    pingInterval: SOCKET_TIMEOUT_MS / 2,
    socket: {
      connectTimeout: 1000,
      socketTimeout: SOCKET_TIMEOUT_MS,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000),
    },
  }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  client.on("error", (/** @type {NodeJS.ErrnoException} */ error) => {
    down = true
    onFailure(error.code ?? "error", error)
  })
  client.on("ready", () => {
    if (down) onBack()
    down = false
  })
  // Connects, and reconnects, by itself; until then every call is a miss.
  client.connect().catch((/** @type {unknown} */ error) => onFailure("unavailable", error))

  const prefix = `gatsby-adapter-node:${buildId}:`
  const pageKey = (/** @type {string} */ key) => `${prefix}${key}`
  const lockKey = (/** @type {string} */ key) => `${prefix}lock:${key}`
  // Values of no build's own (images, by what they are made of): a new build finds them too.
  const blobKey = (/** @type {string} */ key) => `gatsby-adapter-node:blob:${key}`
  let pending = 0
  let pendingBytes = 0

  /**
   * A call to the store, or undefined once it fails or takes longer than the bound; it never throws.
   * A call given up on still counts until the store answers it or its connection goes, which is when
   * `late` hears what it came to.
   * @template T @param {() => Promise<T>} call @param {{ bytes?: number, late?: (result: T) => void }} [options]
   * @returns {Promise<T | undefined>}
   */
  const bounded = async (call, { bytes = 0, late } = {}) => {
    if (!client.isReady || pending >= MAX_PENDING || pendingBytes + bytes > MAX_PENDING_BYTES)
      return undefined
    pending++
    pendingBytes += bytes
    const settled = call().finally(() => {
      pending--
      pendingBytes -= bytes
    })
    /** @type {NodeJS.Timeout | undefined} */
    let timer
    try {
      const result = await Promise.race([
        settled,
        new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, TIMED_OUT))),
      ])
      if (result !== TIMED_OUT) return /** @type {T} */ (result)
      onFailure("timeout", new Error(`no answer in ${timeoutMs} ms`))
      settled.then(late, () => {})
      return undefined
    } catch (error) {
      const { code, name } = /** @type {NodeJS.ErrnoException} */ (error)
      onFailure(name === "ClientOfflineError" ? "unavailable" : (code ?? name), error)
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  /** @param {Buffer | null | undefined} value @returns {Found} */
  const found = (value) => {
    if (!value) return { kind: "miss" }
    if (value.equals(NOT_KEPT)) return { kind: "not-kept" }
    try {
      return { kind: "kept", stored: decode(value) }
    } catch (error) {
      // Another writer's, or a value cut short: a miss, which the next render replaces.
      onFailure("undecodable", error)
      return { kind: "miss" }
    }
  }

  /**
   * Takes the fleet's lock on rendering a page: its token, or "held" when another server holds it,
   * or undefined when the store cannot say (render then, as without a store). A lock that the store
   * gives after the call was given up on is released at once, so that nobody waits for it.
   * @param {string} key @returns {Promise<string | "held" | undefined>}
   */
  const lock = async (key) => {
    const token = randomUUID()
    const taken = await bounded(
      () => client.set(lockKey(key), token, { condition: "NX", expiration: { type: "PX", value: LOCK_MS } }),
      { late: (result) => result && release(key, token) },
    )
    return taken === undefined ? undefined : taken ? token : "held"
  }

  /**
   * Polls for a value another server renders while it holds the lock on `locked`: the value; or, when
   * the lock went without one, the lock itself, if this server takes it; a miss when the store failed
   * or WAIT_MS passed.
   * @param {string} valueKey @param {string} locked
   * @returns {Promise<{ value: Buffer } | { kind: "leader", token: string } | { kind: "miss" }>}
   */
  const waitUntilKept = async (valueKey, locked) => {
    const until = Date.now() + WAIT_MS
    while (Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
      const both = /** @type {Array<Buffer | null> | undefined} */ (
        await bounded(() => client.mGet([valueKey, lockKey(locked)]))
      )
      if (!both) return { kind: "miss" }
      const [value, held] = both
      if (value) return { value }
      if (held) continue
      const token = await lock(locked)
      if (token === undefined) return { kind: "miss" }
      if (token !== "held") return { kind: "leader", token }
    }
    return { kind: "miss" }
  }

  /** @param {string} key @param {string} token */
  const release = (key, token) => {
    void bounded(() => client.eval(RELEASE, { keys: [lockKey(key)], arguments: [token] }))
  }

  return {
    /** @param {string} key @returns {Promise<Found>} */
    get: async (key) =>
      found(/** @type {Buffer | null | undefined} */ (await bounded(() => client.get(pageKey(key))))),

    /**
     * Keeps a page for the rest of its life, for every server; or remembers that it was not kept.
     * @param {string} key @param {Stored | undefined} stored
     */
    put(key, stored) {
      const lifeMs = !stored ? NOT_KEPT_MS : stored.policy ? stored.policy.timeToLive() : BUILD_LIFE_MS
      if (lifeMs <= 0) return
      const value = stored ? encode(stored) : NOT_KEPT
      void bounded(
        () => client.set(pageKey(key), value, { expiration: { type: "PX", value: Math.ceil(lifeMs) } }),
        { bytes: value.length },
      )
    },

    lock,
    release,

    /**
     * Waits for the page another server holds the lock on: what it kept, or that it kept nothing; or,
     * when the lock went without a page, the lock itself, if this server is the one that takes it
     * (the others wait on for its page); a miss when the store failed or WAIT_MS passed.
     * @param {string} key @returns {Promise<Waited>}
     */
    async waitFor(key) {
      const waited = await waitUntilKept(pageKey(key), key)
      return "value" in waited ? found(waited.value) : waited
    },

    /**
     * What the fleet keeps under a key of no build's (an image, by what it is made of), or undefined.
     * @param {string} key @returns {Promise<Buffer | undefined>}
     */
    getBlob: async (key) =>
      /** @type {Buffer | null | undefined} */ (await bounded(() => client.get(blobKey(key)))) ?? undefined,

    /**
     * Keeps a value for the fleet under a key of no build's, for ttlMs.
     * @param {string} key @param {Buffer} value @param {number} ttlMs
     */
    putBlob(key, value, ttlMs) {
      void bounded(() => client.set(blobKey(key), value, { expiration: { type: "PX", value: ttlMs } }), {
        bytes: value.length,
      })
    },

    /**
     * As waitFor, for a value under a key of no build's, whose lock is lock(`blob:${key}`).
     * @param {string} key @returns {Promise<{ value: Buffer } | { kind: "leader", token: string } | { kind: "miss" }>}
     */
    waitForBlob: (key) => waitUntilKept(blobKey(key), `blob:${key}`),

    /** The calls waiting for the store, and the bytes of the pages they write. */
    pending: () => ({ calls: pending, bytes: pendingBytes }),

    close: () => client.destroy(),
  }
}

// A stored page: the length of its description, the description (JSON), then its body and its
// compressed forms, as they are.
/** @param {Stored} stored @returns {Buffer} */
function encode({ rendered, storedAt, policy }) {
  const { body, forms, ...rest } = rendered
  const meta = Buffer.from(
    JSON.stringify({
      ...rest,
      storedAt,
      policy: policy?.toObject(),
      lengths: [body.length, forms?.br.length ?? 0, forms?.gzip.length ?? 0],
    }),
  )
  const length = Buffer.alloc(4)
  length.writeUInt32BE(meta.length)
  return Buffer.concat([length, meta, body, forms?.br ?? Buffer.alloc(0), forms?.gzip ?? Buffer.alloc(0)])
}

/**
 * The page a value holds; throws for a value that is not one encode() wrote whole.
 * @param {Buffer} value @returns {Stored}
 */
function decode(value) {
  const metaLength = value.readUInt32BE(0)
  const { storedAt, policy, lengths, ...rest } = JSON.parse(value.subarray(4, 4 + metaLength).toString())
  const [bodyLength, brLength, gzipLength] = /** @type {unknown[]} */ (lengths ?? [])
  const whole = [bodyLength, brLength, gzipLength].every((n) => Number.isInteger(n) && Number(n) >= 0)
  if (
    !whole ||
    4 + metaLength + Number(bodyLength) + Number(brLength) + Number(gzipLength) !== value.length ||
    typeof storedAt !== "number" ||
    typeof rest.status !== "number" ||
    typeof rest.headers !== "object"
  ) {
    throw new Error("not a page that this server stored, or one cut short")
  }
  let at = 4 + metaLength
  const slice = (/** @type {number} */ length) => value.subarray(at, (at += length))
  const body = slice(Number(bodyLength))
  const br = slice(Number(brLength))
  const gzip = slice(Number(gzipLength))
  return {
    rendered: { ...rest, body, ...(brLength ? { forms: { br, gzip } } : {}) },
    storedAt,
    policy: policy ? CachePolicy.fromObject(policy) : undefined,
  }
}

module.exports = { createSharedCache, encode, decode, MAX_PENDING }
