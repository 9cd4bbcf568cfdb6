// @ts-check
// The request handler: a fastify app that serves a `gatsby build` by the routes the adapter wrote, as
// Gatsby's rules say (routes.js). A request goes through one pipeline: the limits and load shedding,
// then the candidates at its address in turn (redirects.js, functions.js, a page's one address, the
// engine and its cache in engine.js, static.js), then the 404 and error pages (errors.js). ../start.js
// listens.
const http = require("node:http")
const path = require("node:path")
const proxyAddr = require("@fastify/proxy-addr")
const Fastify = require("fastify").default
const { LogController } = require("fastify")
const fastifyCompress = require("@fastify/compress").default
const underPressure = require("@fastify/under-pressure").default
const { loadBuild } = require("./build")
const { engineStage } = require("./engine")
const { errorHandler, plainError, sendNotFound } = require("./errors")
const { boundedFailureLog } = require("./failure-log")
const { accessLog: accessLogOf, createLogger, nextRequestId } = require("./logs")
const { functionStage } = require("./functions")
const { lingerIfBodyUnread, LINGER } = require("./linger")
const { redirectStage, sendTrailingSlashRedirect } = require("./redirects")
const routes = require("./routes")
const { FILE_METHODS, fileStore } = require("./static")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").Address} Address
 * @typedef {import("./routes").Candidate} Candidate
 * @typedef {import("./static").FileEntry} FileEntry
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

// The file bodies kept in memory, by default: a typical site's JavaScript, CSS, page-data and HTML.
const FILE_MEMORY_BYTES = 64 * 1024 * 1024

// How long a client that got 503 because the server was overloaded is asked to wait.
const RETRY_AFTER_SECONDS = 10

/**
 * @param {{ root?: string, accessLog?: boolean, timeouts?: Partial<Timeouts>, bodyLimit?: number,
 *   countryHeader?: string, trustProxy?: false | string[] | import("./env").TrustHops,
 *   pressure?: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number }, cacheBytes?: number,
 *   maxInFlight?: number, fileMemoryBytes?: number, linger?: import("./linger").LingerBounds,
 *   logFormat?: import("./logs").LogFormat, log?: (line: string) => void, metrics?: import("./metrics").Metrics }} [options]
 *   root: the site's folder, with public/ and .cache/ from `gatsby build`; timeouts: those to change;
 *   countryHeader: the request header that a CDN in front sets to the visitor's country, for redirects;
 *   trustProxy: whose X-Forwarded-* headers to believe, as fastify takes it (none by default);
 *   pressure: the bounds past which it sheds load, answering 503 (0 for none, as by default here;
 *   start.js passes its settings); cacheBytes: the bound of the shared cache of rendered pages (0, as by
 *   default here, for none; start.js passes its setting); fileMemoryBytes: the bound of the file bodies
 *   kept in memory (0 for none); maxInFlight: how many requests past the fast lane may be answered at
 *   once, past which others get 503 at once (0, as by default here, for no bound); linger: how long,
 *   and for how many bytes, a connection closed before its request's body arrived reads on (linger.js); logFormat: the access log's, JSON lines (pino) or
 *   Combined Log Format; log: where the lines go (standard output by default); metrics: what counts the
 *   answers (metrics.js), if anything.
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
  maxInFlight = 0,
  fileMemoryBytes = FILE_MEMORY_BYTES,
  linger = LINGER,
  logFormat = "json",
  log = (line) => process.stdout.write(`${line}\n`),
  metrics,
} = {}) {
  const timeouts = { ...TIMEOUTS, ...changed }
  const build = loadBuild(root)
  // Node gives request headers in lower case.
  const countryKey = countryHeader?.toLowerCase()
  const table = routes.routeTable(build, countryKey)
  const caselessRedirect = routes.caselessRedirects(table)
  // Security headers that Gatsby gives every path ("/*"), for what is not a static file: server-rendered
  // pages, redirects, errors. (Gatsby Functions get theirs from the adapter, with gatsby-config's.)
  const everyPath = build.headerRoutes.find((route) => route.path.endsWith("/*"))?.headers ?? []
  const logger = createLogger(log)
  const failureLog = boundedFailureLog(logger)
  const { reportFailure } = failureLog
  const access = accessLog ? accessLogOf(logFormat, logger, log) : undefined
  // The client's address, as fastify reads it for the requests it sees: past the proxies it trusts.
  const trusted = Array.isArray(trustProxy) ? proxyAddr.compile(trustProxy) : trustProxy
  /** @param {http.IncomingMessage} req */
  const clientAddress = (req) => (trusted ? proxyAddr(req, trusted) : (req.socket.remoteAddress ?? ""))
  const redirect = redirectStage(countryKey)
  const runFunction = functionStage({
    compiled: build.compiled,
    everyPath,
    errorPage: build.errorPage,
    bodyLimit,
    reportFailure,
  })
  const everyPathHeaders = Object.fromEntries(everyPath.map(({ key, value }) => [key, value]))
  /** @type {WeakMap<http.IncomingMessage, import("./metrics").AnswerKind>} how each request was answered */
  const kindOf = new WeakMap()
  const {
    renderPage,
    answerFromCache,
    stop: stopEngine,
  } = engineStage({
    engines: build.compiled,
    cacheBytes,
    everyPath: everyPathHeaders,
    reportFailure,
    onLookup: (result, request) => {
      metrics?.cacheLookup(result)
      if (result !== "miss") kindOf.set(request.raw, "cached")
    },
  })
  // Counts an answer of the fast lane or a shed request, once it is sent.
  /** @param {import("./metrics").AnswerKind} kind @param {http.ServerResponse} res */
  const count = (kind, res) => {
    if (!metrics) return
    const started = process.hrtime.bigint()
    res.once("finish", () =>
      metrics.answered(kind, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9),
    )
  }
  const files = fileStore({
    publicDir: path.join(root, "public"),
    everyPath: everyPathHeaders,
    memoryBytes: fileMemoryBytes,
  })
  /** @type {Map<Candidate, FileEntry>} */
  const fileOf = new Map()
  for (const { candidates, vary } of table) {
    for (const candidate of candidates) {
      const entry = candidate.kind === "file" ? files.entry(candidate, vary) : undefined
      if (entry) fileOf.set(candidate, entry)
    }
  }
  // The fast lane: a GET or HEAD for a file at its one address, with no redirect or condition there,
  // or for a page fresh in the shared cache, is answered before the framework sees it, as a server
  // or CDN in front of Node would (most of a page view's requests are these); anything else, and
  // every request once the server closes, goes on.
  const lane = fileLane(table, fileOf, build.trailingSlash)
  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res @returns {boolean} answered */
  const answeredInLane = (req, res) => {
    // Once the server closes (it no longer listens), fastify answers what its connections still ask.
    if (!server?.listening || (req.method !== "GET" && req.method !== "HEAD")) return false
    const url = req.url ?? ""
    if (
      !url.startsWith("/") ||
      url.length > MAX_URL_LENGTH ||
      req.headers["content-length"] ||
      req.headers["transfer-encoding"]
    )
      return false
    const entry = lane.get(splitUrl(url)[0])
    if (entry) files.send(entry, req, res)
    else if (answerFromCache(req, res)) metrics?.cacheLookup("hit")
    else return false
    // Both are answered by now, and their ends not yet sent.
    access?.(req, res, nextRequestId(), clientAddress(req))
    count(entry ? "file" : "cached", res)
    return true
  }
  /** @type {http.Server | undefined} */
  let server
  let inFlight = 0
  const app = Fastify({
    serverFactory: (handler) => {
      server = http.createServer(
        {
          headersTimeout: timeouts.headersMs,
          requestTimeout: timeouts.requestMs,
          keepAliveTimeout: timeouts.idleMs,
          // How often Node checks headersTimeout and requestTimeout; its default (30 s) would let them
          // run that much late.
          connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
        },
        (req, res) => {
          if (answeredInLane(req, res)) return
          // Past the bound, a quick 503 rather than a wait behind the others (say, on a hanging API).
          if (maxInFlight && inFlight >= maxInFlight) {
            metrics?.shed("in-flight")
            count("shed", res)
            return shed(res)
          }
          inFlight++
          res.once("close", () => inFlight--)
          handler(req, res)
        },
      )
      server.setTimeout(timeouts.socketMs)
      return server
    },
    // Behind a proxy that is trusted, the client's address, protocol and host come from X-Forwarded-*:
    // in the access log, and in the URL that Gatsby Functions and the engine are given.
    trustProxy,
    loggerInstance: logger,
    // One line per request at most, the access log's, which is off by default.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: nextRequestId,
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

  // Overloaded (the event loop lags, or the heap is nearly full), every request, /healthz included, gets
  // 503 with Retry-After before any work is done for it, until the load falls.
  await app.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes,
    retryAfter: RETRY_AFTER_SECONDS,
    message: "Service Unavailable: overloaded, so requests get 503 with Retry-After until the load falls",
  })
  // Compression of answers only: Gatsby Functions' body parsers decompress a request's body, or refuse
  // an encoding they cannot read, as under gatsby develop.
  await app.register(fastifyCompress, { threshold: 1024, globalDecompression: false })
  // Request bodies are for Gatsby Functions, parsed by each function's own config (functions.js), so
  // fastify reads none: it only refuses one that says it is too large.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser("*", (_request, _payload, done) => done(null))

  // Hooks with callbacks rather than promises, as each costs a cheap request more (npm run bench's A/B).
  app.addHook("onRequest", (request, reply, done) => {
    if (request.url.length > MAX_URL_LENGTH) return void plainError(reply, 414)
    if (Number(request.headers["content-length"]) > bodyLimit) return void plainError(reply, 413)
    done()
  })
  if (metrics) {
    app.addHook("onResponse", async (request, reply) => {
      metrics.answered(kindOf.get(request.raw) ?? "error", reply.statusCode, reply.elapsedTime / 1000)
    })
  }
  if (access)
    app.addHook("onRequest", async (request, reply) => access(request.raw, reply.raw, request.id, request.ip))

  app.addHook("onSend", (request, reply, payload, done) => {
    for (const { key, value } of everyPath) if (!reply.hasHeader(key)) reply.header(key, value)
    lingerIfBodyUnread(request.raw, reply.raw, linger)
    done(null, payload)
  })

  app.addHook("onClose", (_app, done) => {
    failureLog.stop()
    stopEngine()
    done()
  })

  // For load balancers: 200 while it serves. Once it shuts down it takes no new connections, and
  // fastify answers 503 on those it still has.
  app.get("/healthz", (request, reply) => {
    kindOf.set(request.raw, "health")
    return reply.header("cache-control", "no-store").send("ok\n")
  })

  /**
   * The first of an address's candidates that answers: a redirect whose conditions hold, or the page,
   * file or function there.
   * @param {Address} address @param {FastifyRequest} request @param {FastifyReply} reply
   * @returns {Promise<unknown>}
   */
  const dispatch = async (address, request, reply) => {
    const [pathname, query] = splitUrl(request.url)
    if (address.vary.length) reply.header("vary", address.vary.join(", "))
    for (const candidate of address.candidates) {
      if (candidate.kind === "redirect") {
        // Before the answer, which may be sent at once: a later candidate says otherwise.
        kindOf.set(request.raw, "redirect")
        const redirected = redirect(candidate, request, reply, pathname, query)
        if (redirected) return redirected
        continue
      }
      if (!routes.answersAt(candidate, pathname)) continue
      if (candidate.kind === "function") {
        kindOf.set(request.raw, "function")
        return runFunction(candidate.route, request, reply)
      }
      if (candidate.kind === "file" && !FILE_METHODS.includes(request.method))
        return plainError(reply.header("allow", FILE_METHODS.join(", ")), 405)
      const canonical =
        candidate.page && FILE_METHODS.includes(request.method)
          ? routes.canonicalPath(build.trailingSlash, pathname)
          : undefined
      if (canonical) {
        kindOf.set(request.raw, "redirect")
        return sendTrailingSlashRedirect(reply, `${canonical}${query}`)
      }
      // Until the cache says it had the page (onLookup).
      kindOf.set(request.raw, candidate.kind === "engine" ? "page" : "file")
      if (candidate.kind === "engine")
        return renderPage(candidate.route, request, reply, {
          alone: address.candidates.length === 1 && !address.vary.length,
          vary: address.vary,
        })
      const entry = fileOf.get(candidate)
      // A file that the routes name and public/ lacks.
      if (!entry) return kindOf.set(request.raw, "not-found") && sendNotFound(build, reply)
      reply.hijack()
      return files.send(entry, request.raw, reply.raw)
    }
    return notFound(request, reply)
  }

  // No route: a redirect that ignores case (/REDIRECT finds /redirect's), or the 404 page.
  /** @param {FastifyRequest} request @param {FastifyReply} reply @returns {unknown} */
  const notFound = (request, reply) => {
    const redirect = caselessRedirect(splitUrl(request.url)[0])
    if (redirect)
      return dispatch(redirect.address, Object.assign(request, { params: redirect.params }), reply)
    kindOf.set(request.raw, "not-found")
    return sendNotFound(build, reply)
  }

  for (const address of table) {
    app.route({
      method: app.supportedMethods,
      url: address.url,
      handler: (request, reply) => dispatch(address, request, reply),
    })
  }
  app.setNotFoundHandler(notFound)
  const handleError = errorHandler({ errorPage: build.errorPage, reportFailure })
  app.setErrorHandler((/** @type {import("fastify").FastifyError} */ error, request, reply) => {
    // Shed (under-pressure set Retry-After): no failure of the server's, so counted, not logged.
    if (error.code === "FST_UNDER_PRESSURE") {
      metrics?.shed("pressure")
      kindOf.set(request.raw, "shed")
      return plainError(reply, 503)
    }
    return handleError(error, request, reply)
  })

  return /** @type {import("fastify").FastifyInstance} */ (/** @type {unknown} */ (app))
}

/**
 * The files that the fast lane answers, by path: each at its one address (a page's under
 * trailingSlash), where nothing but the file answers.
 * @param {Address[]} table @param {Map<Candidate, FileEntry>} fileOf @param {routes.TrailingSlash} trailingSlash
 */
function fileLane(table, fileOf, trailingSlash) {
  /** @type {Map<string, FileEntry>} */
  const lane = new Map()
  for (const { url, candidates, vary } of table) {
    const entry = candidates.length === 1 && !vary.length ? fileOf.get(candidates[0]) : undefined
    if (!entry || /[:*]/.test(url)) continue
    const paths =
      candidates[0].kind !== "file" || !candidates[0].page || url === "/"
        ? [url]
        : trailingSlash === "always"
          ? [`${url}/`]
          : trailingSlash === "never"
            ? [url]
            : [url, `${url}/`]
    for (const at of paths) lane.set(at, entry)
  }
  return lane
}

// 503 with Retry-After, before any work is done for the request.
/** @param {http.ServerResponse} res */
function shed(res) {
  const body = "Service Unavailable: too many requests in flight; try again shortly\n"
  res.writeHead(503, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    "retry-after": String(RETRY_AFTER_SECONDS),
  })
  res.end(body)
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

/** @param {string} url @returns {[string, string]} the path, and the query with its "?" */
function splitUrl(url) {
  const query = url.indexOf("?")
  return query === -1 ? [url, ""] : [url.slice(0, query), url.slice(query)]
}

module.exports = { createServer, TIMEOUTS }
