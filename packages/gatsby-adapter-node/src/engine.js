// @ts-check
// Pages that Gatsby's SSR engine renders (getServerData pages, DSG pages, and their page-data), in
// stages: looked up where pages are kept (kept-pages.js: this server's memory, then the fleet's store);
// a stale one sent while one render renews it; otherwise rendered (render.js), once for the requests
// that come together for a page that may be kept, here and across the fleet (one-render.js), and kept
// where its answer allows; then sent, 304 to a client that has it.
const { notModifiedHeaders } = require("./not-modified")
const { keptPages } = require("./kept-pages")
const { oneRender } = require("./one-render")
const { createRenderer } = require("./render")
const { CREDENTIALS } = require("./response-cache")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Hit} Hit
 * @typedef {import("./render").Engine} Engine
 */

const CACHEABLE_METHODS = ["GET", "HEAD"]

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
  const renderer = createRenderer({ engines })
  const pages = keptPages({ cacheBytes, secret, everyPath, shared, onPersonal })
  const renders = oneRender({ render: renderer.render, pages, shared })
  /** @type {Set<string>} the cache keys that one render is renewing */
  const revalidating = new Set()

  /** @param {Hit} hit @param {string[]} vary @param {FastifyReply} reply */
  const sendHit = (hit, vary, reply) => {
    reply.hijack()
    pages.send(hit, vary, reply.request.raw, reply.raw)
  }

  /**
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply
   * @param {{ alone: boolean, vary: string[] }} address alone: whether the engine is all that answers
   *   at the request's address (no redirect, no condition); vary: the request headers the address varies by
   */
  const renderPage = async (route, request, reply, { alone, vary }) => {
    const key = request.url
    const page = { alone, keptForBuild: route.cache === true }
    // Looked up, and a stale page renewed while it is sent.
    let storeMs = 0
    if (pages.enabled && CACHEABLE_METHODS.includes(request.method)) {
      const looked = await pages.lookup(key, request)
      storeMs = looked.storeMs
      const { hit, tier } = looked
      onLookup?.(hit ? (hit.stale ? "stale" : "hit") : "miss", request, tier)
      if (hit?.stale && !revalidating.has(key)) {
        revalidating.add(key)
        renders
          .revalidate(route, request, key, page)
          .catch((/** @type {unknown} */ error) => reportFailure(error, request))
          .finally(() => revalidating.delete(key))
      }
      if (hit) return sendHit(hit, vary, reply)
    }
    // Rendered: once for the requests that come together for it, unless a visitor's credentials may
    // make the page theirs alone (such a request neither waits for another's render nor has others
    // wait for its own), or the page is marked as not kept.
    const together =
      pages.enabled &&
      request.method === "GET" &&
      !CREDENTIALS.some((name) => name in request.headers) &&
      !pages.neverKept(key)
    const answer = together
      ? await renders.renderTogether(route, request, key, page)
      : { rendered: await renders.renderAlone(route, request, key, page), storeMs: 0 }
    if ("hit" in answer) return sendHit(answer.hit, vary, reply)
    // Sent: 304 to a client that has the page, by its ETag (render.js makes one per render).
    const { rendered } = answer
    const timing = [rendered.headers["server-timing"], ...storeTiming(storeMs + answer.storeMs)].join(", ")
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

  return {
    renderPage,
    answerFromCache: pages.answerFromCache,
    /** The bytes the cache holds, by its own count. */
    cacheBytes: pages.bytes,
    stop: async () => {
      renderer.stop()
      await shared?.close()
    },
  }
}

// How long a page waited for the fleet's store, for Server-Timing, where it asked.
/** @param {number} ms */
function storeTiming(ms) {
  return ms > 0 ? [`store;dur=${ms.toFixed(1)}`] : []
}

module.exports = { engineStage }
