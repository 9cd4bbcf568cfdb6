// @ts-check
// Gatsby's Image CDN and File CDN on this server: the addresses Gatsby's resolvers write (image-urls.js)
// for remote files (a CMS's, or addRemoteFileAllowedUrl's), answered at request time where no file of
// public/ answers them (a static page's images are made at build time, and served as files; a
// server-rendered or deferred page's are made here). Each (source, arguments) is fetched and made once:
// the answer kept in memory, on disk (image-cache.js) and in the fleet's store (shared-cache.js), and a
// server takes the fleet's lock to make one while the others wait for it; the source of several sizes
// is fetched once (kept in memory a while). The source is fetched as image-source.js allows, and made
// with sharp as image-transform.js bounds it. Answers carry immutable caching for an image (its address
// names its source's content), a day's for a file, nosniff and a sandboxing CSP, as Next.js's image
// optimizer sends them; what went wrong is a short text, never kept.
const { createHash } = require("node:crypto")
const path = require("node:path")
const { LRUCache } = require("lru-cache")
const { RETRY_AFTER_SECONDS, RefusedError } = require("./errors")
const { createImageCache, decodeMade, encodeMade } = require("./image-cache")
const { createSourceFetcher } = require("./image-source")
const { createTransformer, readArgs } = require("./image-transform")
const { readAddress } = require("./image-urls")

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {import("./image-cache").Made} Made
 * @typedef {{ notModified: Record<string, string>, ok: Record<string, string | number> }} AnswerHeaders
 * @typedef {Made & { etag: string, immutable: boolean, fromMemory?: AnswerHeaders }} Answer
 *   fromMemory: its headers when answered from memory, made once
 * @typedef {{ memoryBytes: number, diskBytes: number, dir: string, maxSourceBytes: number,
 *   maxSourcePixels: number, transformsAtOnce: number }} ImageSettings
 */

const SECURITY = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "script-src 'none'; frame-src 'none'; sandbox;",
}
const IMMUTABLE = "public, max-age=31536000, immutable"
// A file's address names its source, not its content: kept a day, here and in browsers.
const FILE_LIFE_SECONDS = 24 * 60 * 60
// Images kept in the fleet's store this long, each at most this large.
const STORE_LIFE_MS = 30 * 24 * 60 * 60 * 1000
const MAX_STORE_BYTES = 4 * 1024 * 1024
// Sources kept in memory between the sizes made of them.
const SOURCE_MEMORY_BYTES = 64 * 1024 * 1024
// Sizes and formats made of one source, at most, while it is remembered, whatever content digest the
// address names (each names a fetch of its own): a page asks for a dozen; a thousand is someone making
// the server work.
const MAX_VARIANTS = 64
const QUEUE = 32
const FETCH_TIMEOUT_MS = 10_000
const TRANSFORM_TIMEOUT_SECONDS = 20

/**
 * @param {{ prefix: string, allowed: string[], everyPath: Record<string, string>, settings: ImageSettings,
 *   shared?: import("./shared-cache").SharedCache, metrics?: import("./metrics").Metrics,
 *   onProblem: (kind: string, detail: string) => void }} options
 *   prefix: the site's path prefix; allowed: the build's remoteFileAllowedUrls; everyPath: the headers
 *   Gatsby gives every path (gatsby-config's "/*"), under the lane's own; onProblem: told of each
 *   kind of failure, for the bounded error log
 */
function imageLane({ prefix, allowed, everyPath, settings, shared, metrics, onProblem }) {
  const sources = createSourceFetcher({
    allowed,
    timeoutMs: FETCH_TIMEOUT_MS,
    maxBytes: settings.maxSourceBytes,
    maxRedirects: 3,
  })
  const transformer = createTransformer({
    atOnce: settings.transformsAtOnce,
    queue: QUEUE,
    maxPixels: settings.maxSourcePixels,
    timeoutSeconds: TRANSFORM_TIMEOUT_SECONDS,
  })
  const cache = createImageCache({
    memoryBytes: settings.memoryBytes,
    diskBytes: settings.diskBytes,
    dir: settings.dir,
    onProblem: (what, error) => onProblem(what, error instanceof Error ? error.message : String(error)),
  })
  /** @type {LRUCache<string, Answer>} answers by the address asked (path and query), for the fast lane */
  const byAddress = new LRUCache({
    maxSize: Math.max(1, settings.memoryBytes),
    sizeCalculation: ({ body }) => body.length + 200,
  })
  /** @type {Map<string, Promise<{ made: Made, from: string }>>} what is being made, by its key */
  const making = new Map()
  /** @type {LRUCache<string, Buffer>} sources fetched, by URL and content digest */
  const sourceMemory = new LRUCache({
    maxSize: SOURCE_MEMORY_BYTES,
    sizeCalculation: (body) => body.length || 1,
  })
  /** @type {Map<string, Promise<import("./image-source").Source>>} sources being fetched */
  const fetching = new Map()
  /** @type {LRUCache<string, Set<string>>} the variants asked of each source */
  const variants = new LRUCache({ max: 10_000 })

  const imagePrefix = `${prefix}/_gatsby/image/`
  const filePrefix = `${prefix}/_gatsby/file/`
  /** @param {string} url */
  const owns = (url) => url.startsWith(imagePrefix) || url.startsWith(filePrefix)

  /**
   * A source, fetched once however many sizes are made of it at once, and kept a while.
   * @param {string} url @param {string} version its content digest, for an image
   */
  const sourceOf = async (url, version) => {
    const key = `${url}\n${version}`
    const kept = sourceMemory.get(key)
    if (kept) return kept
    let pending = fetching.get(key)
    if (!pending) {
      pending = sources.fetchSource(url)
      fetching.set(key, pending)
      pending.then(
        ({ body }) => {
          metrics?.imageWork("fetch", "ok")
          sourceMemory.set(key, body)
        },
        (/** @type {{ reason?: string }} */ error) => metrics?.imageWork("fetch", error.reason ?? "failed"),
      )
      pending.catch(() => {}).finally(() => fetching.delete(key))
    }
    return (await pending).body
  }

  /**
   * What an address asks for, fetched and made here.
   * @param {import("./image-urls").Asked} asked @returns {Promise<Made>}
   */
  const make = async (asked) => {
    if (asked.kind === "file") {
      const { body, type } = await sources.fetchSource(asked.url)
      metrics?.imageWork("fetch", "ok")
      const mediaType = /^[\w.+-]+\/[\w.+-]+/.exec(type ?? "")?.[0] ?? "application/octet-stream"
      return { type: mediaType, body }
    }
    readArgs(asked.args)
    const seen = variants.get(asked.url) ?? new Set()
    variants.set(asked.url, seen.add(`${asked.contentDigest}&${asked.args}`))
    if (seen.size > MAX_VARIANTS)
      throw new RefusedError(`more than ${MAX_VARIANTS} sizes and formats of one image`, 429, "variants")
    const made = await transformer.transform(await sourceOf(asked.url, asked.contentDigest), asked.args)
    metrics?.imageWork("transform", "ok")
    return made
  }

  /**
   * What an address asks for: from disk, from the fleet's store, or made here, once across the fleet
   * (the server with the lock makes it; the others wait for it, as pages do).
   * @param {import("./image-urls").Asked} asked @param {string} key
   * @returns {Promise<{ made: Made, from: string }>}
   */
  const produce = async (asked, key) => {
    const onDisk = cache.fromDisk(key)
    if (onDisk) return { made: onDisk, from: "disk" }
    /** @param {Buffer | undefined} value */
    const stored = (value) => (value ? decodeMade(value) : undefined)
    let found = shared ? stored(await shared.getBlob(key)) : undefined
    let token = !found && shared ? await shared.lock(`blob:${key}`) : undefined
    if (shared && token === "held") {
      const waited = await shared.waitForBlob(key)
      found = "value" in waited ? stored(waited.value) : undefined
      token = "kind" in waited && waited.kind === "leader" ? waited.token : undefined
    } else if (shared && token) {
      // Made and kept by another server between the look-up and the lock.
      found = stored(await shared.getBlob(key))
    }
    try {
      if (found) {
        cache.keep(key, found)
        return { made: found, from: "store" }
      }
      const made = await make(asked)
      cache.keep(key, made)
      const value = encodeMade(made)
      if (value.length <= MAX_STORE_BYTES) shared?.putBlob(key, value, STORE_LIFE_MS)
      return { made, from: "made" }
    } finally {
      if (token && token !== "held") shared?.release(`blob:${key}`, token)
    }
  }

  /**
   * An answer's headers, for a 200 and a 304, from where it came.
   * @param {Answer} answer @param {string} from @returns {AnswerHeaders}
   */
  const headersOf = (answer, from) => {
    const notModified = {
      ...everyPath,
      ...SECURITY,
      "cache-control": answer.immutable ? IMMUTABLE : `public, max-age=${FILE_LIFE_SECONDS}`,
      etag: answer.etag,
      "server-timing": `image;desc="${from}"`,
    }
    return {
      notModified,
      ok: { ...notModified, "content-type": answer.type, "content-length": answer.body.length },
    }
  }

  /**
   * An answer, 304 to a client that has it.
   * @param {Answer} answer @param {AnswerHeaders} headers
   * @param {IncomingMessage} req @param {ServerResponse} res
   */
  const send = (answer, headers, req, res) => {
    if (req.headers["if-none-match"] === answer.etag) {
      res.writeHead(304, headers.notModified)
      return void res.end()
    }
    res.writeHead(200, headers.ok)
    res.end(req.method === "HEAD" ? undefined : answer.body)
  }

  /**
   * An answer kept in memory, with its headers made once for it.
   * @param {Answer} answer @param {IncomingMessage} req @param {ServerResponse} res
   */
  const sendFromMemory = (answer, req, res) => {
    metrics?.image("memory")
    send(answer, (answer.fromMemory ??= headersOf(answer, "memory")), req, res)
  }

  /** @param {ServerResponse} res @param {number} status @param {string} message */
  const refuse = (res, status, message) => {
    const body = `${message}\n`
    res.writeHead(status, {
      ...everyPath,
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
      ...(status === 503 && { "retry-after": String(RETRY_AFTER_SECONDS) }),
      "x-content-type-options": "nosniff",
    })
    res.end(body)
  }

  return {
    owns,

    /**
     * An answer kept in memory for this very address, sent at once (the fast lane), or false.
     * @param {IncomingMessage} req @param {ServerResponse} res
     */
    answerFromMemory(req, res) {
      const answer = byAddress.get(/** @type {string} */ (req.url))
      if (!answer) return false
      sendFromMemory(answer, req, res)
      return true
    },

    /**
     * Answers an address of the Image CDN or File CDN.
     * @param {IncomingMessage} req @param {ServerResponse} res
     */
    async answer(req, res) {
      const url = /** @type {string} */ (req.url)
      const kept = byAddress.get(url)
      if (kept) return sendFromMemory(kept, req, res)
      const parsed = new URL(url, "http://localhost")
      const asked = readAddress(parsed.pathname.slice(prefix.length), parsed.searchParams)
      if ("refused" in asked) {
        metrics?.image("refused")
        return refuse(res, 400, `Bad Request: ${asked.refused}`)
      }
      const key = createHash("sha256")
        .update(
          [asked.kind, asked.url, "args" in asked ? `${asked.contentDigest}\n${asked.args}` : ""].join("\n"),
        )
        .digest("hex")
      try {
        let pending = making.get(key)
        if (!pending) {
          pending = produce(asked, key)
          making.set(key, pending)
          pending.catch(() => {}).finally(() => making.delete(key))
        }
        const { made, from } = await pending
        metrics?.image(from)
        /** @type {Answer} */
        const answer = { ...made, etag: `"${key.slice(0, 32)}"`, immutable: asked.kind === "image" }
        byAddress.set(url, answer)
        send(answer, headersOf(answer, from), req, res)
      } catch (error) {
        const {
          status = 500,
          reason = "failed",
          message,
        } = /** @type {{ status?: number, reason?: string, message: string }} */ (error)
        metrics?.image(status === 503 ? "busy" : status === 500 ? "failed" : "refused")
        onProblem(`images: ${reason}`, `${message} (${path.basename(parsed.pathname)})`)
        // What a failure of this server's own was stays in its log.
        refuse(res, status, status === 500 ? "Internal Server Error" : message)
      }
    },
  }
}

module.exports = { imageLane }
