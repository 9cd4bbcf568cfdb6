// @ts-check
// The request handler: a fastify app that serves a `gatsby build` by the routes the adapter wrote, as
// Gatsby's rules say (routes.js), running what Gatsby compiled (functions.js). ../start.js listens.
const { existsSync, readFileSync } = require("node:fs")
const { STATUS_CODES } = require("node:http")
const path = require("node:path")
const Fastify = require("fastify").default
const fastifyCompress = require("@fastify/compress").default
const fastifyEtag = require("@fastify/etag").default
const fastifyStatic = require("@fastify/static").default
const underPressure = require("@fastify/under-pressure").default
const { loadFunction, renderEngine, runFunction } = require("./functions")
const { COMPRESSIBLE } = require("./precompress")
const { createResponseCache, weakEtag } = require("./response-cache")
const routes = require("./routes")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").Candidate} Candidate
 * @typedef {import("./routes").Entry} Entry
 * @typedef {{ headersMs: number, requestMs: number, idleMs: number, socketMs: number }} Timeouts
 */

// Seconds, not minutes: a client that sends its headers or body slowly, or keeps an idle socket,
// gives it up. idleMs is Node's own default; behind a load balancer start.js may raise it (see there).
/** @type {Timeouts} */
const TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, idleMs: 5_000, socketMs: 30_000 }

// Longer URLs get 414; nginx's default allows about as much in a request line.
const MAX_URL_LENGTH = 8 * 1024
// Request bodies, which only Gatsby Functions read: larger ones get 413 before the function runs. Each
// function's own limit (Gatsby's bodyParser config, 100 KB by default) applies below this one.
const BODY_LIMIT = 1024 * 1024
const FILE_METHODS = ["GET", "HEAD"]

// How long a client that got 503 because the server was overloaded is asked to wait.
const RETRY_AFTER_SECONDS = 10

/**
 * @param {{ root?: string, accessLog?: boolean, timeouts?: Partial<Timeouts>, bodyLimit?: number,
 *   countryHeader?: string, trustProxy?: false | string[] | import("./env").TrustHops,
 *   pressure?: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number }, cacheBytes?: number,
 *   log?: (line: string) => void }} [options]
 *   root: the site's folder, with public/ and .cache/ from `gatsby build`; timeouts: those to change;
 *   countryHeader: the request header that a CDN in front sets to the visitor's country, for redirects;
 *   trustProxy: whose X-Forwarded-* headers to believe, as fastify takes it (none by default);
 *   pressure: the bounds past which it sheds load, answering 503 (0 for none, as by default here;
 *   start.js passes its settings); cacheBytes: the bound of the shared cache of rendered pages (0, as by
 *   default here, for none; start.js passes its setting).
 */
async function createServer({
  root = process.cwd(),
  accessLog = false,
  timeouts: changed = {},
  bodyLimit = BODY_LIMIT,
  countryHeader,
  trustProxy = false,
  pressure = { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 0 },
  cacheBytes = 0,
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  const timeouts = { ...TIMEOUTS, ...changed }
  const build = routes.readBuild(root)
  // Node gives request headers in lower case.
  const countryKey = countryHeader?.toLowerCase()
  const table = routes.routeTable(build, countryKey)
  const caselessRedirect = routes.caselessRedirects(table)
  const functions = new Map(
    build.functions.map(({ functionId, pathToEntryPoint }) => [
      functionId,
      loadFunction(path.join(root, pathToEntryPoint)),
    ]),
  )
  // The routes without the files: the site's public/ was deleted or not copied.
  const appData = path.join(root, "public", "page-data", "app-data.json")
  if (!existsSync(appData)) {
    throw new Error(`The build's files are missing: there is no ${appData}. Run \`gatsby build\` again.`)
  }
  // Gatsby writes public/500.html when the site has a 500 page.
  const errorFile = path.join(root, "public", "500.html")
  const errorPage = existsSync(errorFile) ? readFileSync(errorFile, "utf8") : "<h1>Internal Server Error</h1>"
  const app = Fastify({
    http: {
      headersTimeout: timeouts.headersMs,
      // How often Node checks headersTimeout and requestTimeout; its default (30 s) would let them run
      // that much late.
      connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
    },
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.idleMs,
    connectionTimeout: timeouts.socketMs,
    // Behind a proxy that is trusted, the client's address, protocol and host come from X-Forwarded-*:
    // in the access log, and in the URL that Gatsby Functions and the engine are given.
    trustProxy,
    // /ssr matches /ssr/'s route; the handler then sends it to the address trailingSlash picks.
    routerOptions: { ignoreTrailingSlash: true },
    // RFC 9112 has servers accept a request target in absolute form (GET http://host/ssr/ HTTP/1.1):
    // it is routed on its path, and no answer repeats its authority.
    rewriteUrl: (req) => originForm(req.url ?? "/"),
    // A malformed escape in the path (400), a dynamic segment (a breed) over fastify's maxParamLength
    // of 100 characters (414, without asking the page): fastify's own status,
    // with a short message rather than its JSON.
    frameworkErrors: (error, _request, reply) => plainError(reply, error.statusCode ?? 400),
  })
  const reportError = boundedErrorLog(log)

  // Overloaded (the event loop lags, or the heap is nearly full), every request, /healthz included, gets
  // 503 with Retry-After before any work is done for it, until the load falls.
  await app.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    message: "Service Unavailable: overloaded, so requests get 503 with Retry-After until the load falls",
  })
  // An ETag on what the engine renders (a file has its own), so that a client that has the page gets
  // 304. Weak, as a compressed answer is the same page in other bytes.
  await app.register(fastifyEtag, { weak: true })
  // Compression of answers only: Gatsby Functions read the request's own stream (below), so a
  // request body that the plugin decompressed would reach none of them.
  await app.register(fastifyCompress, { threshold: 1024, globalDecompression: false })
  // Headers come from Gatsby's routes manifest, so the plugin adds no Cache-Control of its own. The
  // build compressed the text files (precompress.js): a client that accepts brotli or gzip gets those.
  await app.register(fastifyStatic, {
    root: path.join(root, "public"),
    serve: false,
    cacheControl: false,
    preCompressed: true,
  })

  // Gatsby's compiled functions parse their own bodies from the request's stream, so fastify reads
  // none: it only refuses one that says it is too large.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser("*", (_request, _payload, done) => done(null))

  app.addHook("onRequest", async (request, reply) => {
    if (request.url.length > MAX_URL_LENGTH) return plainError(reply, 414)
    if (Number(request.headers["content-length"]) > bodyLimit) return plainError(reply, 413)
  })
  if (accessLog) {
    app.addHook("onResponse", async (request, reply) => log(accessLogLine(request, reply)))
  }

  // Security headers that Gatsby gives every path ("/*"), for what is not a static file: server-rendered
  // pages, redirects, errors. (Gatsby Functions get theirs from the adapter, with gatsby-config's.)
  const everyPath = build.headerRoutes.find((route) => route.path.endsWith("/*"))?.headers ?? []
  app.addHook("onSend", async (_request, reply) => {
    for (const { key, value } of everyPath) if (!reply.hasHeader(key)) reply.header(key, value)
  })

  // For load balancers: 200 while it serves. Once it shuts down it takes no new connections, and
  // fastify answers 503 on those it still has.
  app.get("/healthz", (_request, reply) => reply.header("cache-control", "no-store").send("ok\n"))

  /**
   * The first of an entry's candidates that answers: a redirect whose conditions hold, or the page,
   * file or function there.
   * @param {Entry} entry @param {FastifyRequest} request @param {FastifyReply} reply
   * @returns {Promise<unknown>}
   */
  const answer = async (entry, request, reply) => {
    const params = /** @type {Record<string, string | undefined>} */ (request.params)
    const [pathname, query] = splitUrl(request.url)
    if (entry.vary.length) reply.header("vary", entry.vary.join(", "))
    for (const candidate of entry.candidates) {
      if (candidate.kind === "redirect") {
        if (!routes.conditionsHold(candidate.route, request.headers, countryKey)) continue
        const location = routes.redirectLocation(candidate.route, params, pathname, query)
        return reply.headers(candidate.headers).redirect(location, candidate.route.status)
      }
      if (candidate.kind === "function") {
        const run = /** @type {import("./functions").GatsbyFunction} */ (
          functions.get(candidate.route.functionId)
        )
        return runFunction(run, request, reply, candidate.route.headers ?? everyPath, (error, res) => {
          reportError(error, request)
          if (res.headersSent) return void res.destroy()
          res.writeHead(500, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
          res.end(request.method === "HEAD" ? undefined : errorPage)
        })
      }
      if (candidate.kind === "file" && !FILE_METHODS.includes(request.method)) {
        return plainError(reply.header("allow", FILE_METHODS.join(", ")), 405)
      }
      const canonical =
        candidate.page && FILE_METHODS.includes(request.method)
          ? routes.canonicalPath(build.trailingSlash, pathname)
          : undefined
      if (canonical) return reply.redirect(`${canonical}${query}`, 301)
      if (candidate.kind === "engine") return renderPage(candidate.route, request, reply)
      // A text file has a compressed form, which a cache in front must keep apart from the other.
      if (COMPRESSIBLE.test(candidate.route.filePath))
        reply.header("vary", [...entry.vary, "accept-encoding"].join(", "))
      return reply
        .headers(candidate.headers)
        .sendFile(path.posix.relative("public", candidate.route.filePath))
    }
    return notFound(request, reply)
  }

  // Pages that the engine renders: from the shared cache when it has them, and kept there when their
  // answer allows. A stale answer within stale-while-revalidate is sent while one render (not one per
  // request) replaces it; if that render fails, the stale answer stays until its window ends.
  const cache = cacheBytes ? createResponseCache({ maxBytes: cacheBytes }) : undefined
  /** @type {Set<string>} */
  const revalidating = new Set()

  /**
   * @param {import("./routes").FunctionRoute} route @param {FastifyRequest} request @param {FastifyReply} reply
   */
  const renderPage = async (route, request, reply) => {
    const key = request.url
    const forBuild = route.cache === true
    const hit = FILE_METHODS.includes(request.method) ? cache?.lookup(key, request) : undefined
    if (hit) {
      if (hit.stale && !revalidating.has(key)) {
        revalidating.add(key)
        render(route, request, "GET")
          .then((rendered) => {
            if (rendered.status < 500) cache?.store(key, request, rendered, forBuild)
          })
          .catch((/** @type {unknown} */ error) => reportError(error, request))
          .finally(() => revalidating.delete(key))
      }
      return reply.code(hit.rendered.status).headers(hit.headers).send(hit.rendered.body)
    }
    const rendered = await render(route, request, request.method)
    if (request.method === "GET") cache?.store(key, request, rendered, forBuild)
    return reply.code(rendered.status).headers(rendered.headers).send(rendered.body)
  }

  /** @param {import("./routes").FunctionRoute} route @param {FastifyRequest} request @param {string} method */
  const render = async (route, request, method) => {
    const engine = /** @type {import("./functions").Engine} */ (functions.get(route.functionId))
    const rendered = await renderEngine(engine, engineRequest(request, method))
    // The ETag that @fastify/etag would make, made once, so that the cache's answers are not hashed again.
    rendered.headers.etag ??= weakEtag(rendered.body)
    return rendered
  }

  /** @param {FastifyRequest} request @param {FastifyReply} reply @returns {unknown} */
  const notFound = (request, reply) => {
    const redirect = caselessRedirect(splitUrl(request.url)[0])
    if (redirect) return answer(redirect.entry, Object.assign(request, { params: redirect.params }), reply)
    return reply.code(404).header("cache-control", "no-store").sendFile("404.html")
  }

  for (const entry of table) {
    for (const { kind, route } of entry.candidates) {
      if ((kind === "engine" || kind === "function") && !functions.has(route.functionId))
        throw new Error(`The routes name a function ${route.functionId} that the build does not have`)
    }
    app.route({
      method: app.supportedMethods,
      url: entry.url,
      handler: (request, reply) => answer(entry, request, reply),
    })
  }

  app.setNotFoundHandler(notFound)
  app.setErrorHandler((/** @type {import("fastify").FastifyError} */ error, request, reply) => {
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) reportError(error, request)
    if (status === 500)
      return reply
        .code(500)
        .header("cache-control", "no-store")
        .type("text/html; charset=utf-8")
        .send(errorPage)
    // 413 for a body too large, 414 for a path segment too long, …: a short message, no stack.
    return plainError(reply, status)
  })

  return app
}

// What the engine is given of a request: the path alone (it finds the page by it), and the URL whole.
/** @param {FastifyRequest} request @param {string} [method] @returns {import("./functions").EngineRequest} */
function engineRequest(request, method = request.method) {
  return {
    url: splitUrl(request.url)[0],
    rawUrl: `${request.protocol}://${request.host}${request.url}`,
    method,
    headers: request.headers,
    query: request.query,
  }
}

// The path and query of a request target; an absolute-form one (http://host/path) loses its authority.
/** @param {string} url */
function originForm(url) {
  if (url.startsWith("/")) return url
  try {
    const { pathname, search } = new URL(url)
    return `${pathname}${search}`
  } catch {
    return url
  }
}

// A client's mistake: its status and name, which no cache keeps.
/** @param {FastifyReply} reply @param {number} status */
function plainError(reply, status) {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .type("text/plain; charset=utf-8")
    .send(`${STATUS_CODES[status] ?? "Error"}\n`)
}

/** @param {string} url @returns {[string, string]} the path, and the query with its "?" */
function splitUrl(url) {
  const query = url.indexOf("?")
  return query === -1 ? [url, ""] : [url.slice(0, query), url.slice(query)]
}

// Combined Log Format, as nginx and Apache write it, plus the time taken: one line a request.
/** @param {FastifyRequest} request @param {FastifyReply} reply */
function accessLogLine(request, reply) {
  const time = commonLogTime(new Date())
  const length = reply.raw.getHeader("content-length") ?? "-"
  const referer = request.headers.referer ?? "-"
  const agent = request.headers["user-agent"] ?? "-"
  return `${request.ip} - - [${time}] "${request.method} ${request.url} HTTP/${request.raw.httpVersion}" ${reply.raw.statusCode} ${length} "${referer}" "${agent}" ${reply.elapsedTime.toFixed(1)}ms`
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

// 25/Nov/2026:12:54:58 +0000, in UTC.
/** @param {Date} date */
function commonLogTime(date) {
  const two = (/** @type {number} */ n) => String(n).padStart(2, "0")
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
}

// Errors that reach the server (not the pages' own, which they log themselves): each kind with its
// stack the first time, then at most one line a second, saying how many were left out. (The same rule
// as src/failure-log.ts, which Gatsby compiles into the engine, so this plain JavaScript cannot use it.)
// A message may carry a request's details, so it remembers the last 100 kinds, not every one.
/** @param {(line: string) => void} log */
function boundedErrorLog(log, intervalMs = 1000, kinds = 100) {
  /** @type {Map<string, { last: number, left: number }>} */
  const seen = new Map()
  /** @param {unknown} thrown @param {FastifyRequest} request */
  return (thrown, request, now = Date.now()) => {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    const kind = `${error.name}: ${error.message}`
    const entry = seen.get(kind)
    if (!entry) {
      if (seen.size >= kinds) seen.delete(/** @type {string} */ (seen.keys().next().value))
      seen.set(kind, { last: now, left: 0 })
      log(`error [${request.method} ${request.url}] ${error.stack ?? kind}`)
    } else if (now - entry.last >= intervalMs) {
      const left = entry.left ? ` (${entry.left} more like it left out)` : ""
      log(`error [${request.method} ${request.url}] ${kind}${left}`)
      seen.set(kind, { last: now, left: 0 })
    } else {
      entry.left++
    }
  }
}

module.exports = { createServer, TIMEOUTS }
