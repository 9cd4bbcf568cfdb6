// @ts-check
// The server: a `gatsby build`, served by the routes the adapter wrote, as Gatsby's rules say
// (routes.js). A request goes through one pipeline, in this order: the fast lane in front of the
// framework (fast-lane.js: files, fresh kept pages, the bound on requests in flight), fastify
// (framework.js), its limits (limits.js: load shedding, 414, 413), then the candidates at its address
// (dispatch.js: redirects.js, functions.js, a page's one address, the engine and its cache in
// engine.js, static.js), then the 404 and error pages (errors.js). ../start.js listens.
const path = require("node:path")
const { loadBuild } = require("./build")
const { dispatcher } = require("./dispatch")
const { engineStage } = require("./engine")
const { errorHandler } = require("./errors")
const { fastLane } = require("./fast-lane")
const { createFramework, TIMEOUTS } = require("./framework")
const { createSharedCache } = require("./shared-cache")
const { functionStage } = require("./functions")
const { applyLimits } = require("./limits")
const { LINGER } = require("./linger")
const { serverLogs } = require("./logs")
const { redirectStage } = require("./redirects")
const routes = require("./routes")
const { fileStore } = require("./static")
const { imageLane } = require("./images")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 */

// Request bodies, which only Gatsby Functions read: larger ones get 413 before the function runs. Each
// function's own limit (Gatsby's bodyParser config, 100 KB by default) applies below this one.
const BODY_LIMIT = 1024 * 1024

// The file bodies kept in memory, by default: a typical site's JavaScript, CSS, page-data and HTML.
const FILE_MEMORY_BYTES = 64 * 1024 * 1024

// Gatsby's Image CDN by default here: nothing kept but in flight (start.js passes its settings).
/** @type {import("./images").ImageSettings} */
const IMAGES = {
  memoryBytes: 0,
  diskBytes: 0,
  dir: "",
  maxSourceBytes: 25 * 1024 * 1024,
  maxSourcePixels: 50_000_000,
  transformsAtOnce: 1,
}

/**
 * @param {{ root?: string, accessLog?: boolean, timeouts?: Partial<import("./framework").Timeouts>, bodyLimit?: number,
 *   countryHeader?: string, trustProxy?: false | string[] | import("./env").TrustHops,
 *   pressure?: { maxEventLoopDelayMs: number, maxHeapUsedBytes: number }, cacheBytes?: number,
 *   maxInFlight?: number, fileMemoryBytes?: number, linger?: import("./linger").LingerBounds,
 *   logFormat?: import("./logs").LogFormat, log?: (line: string) => void, metrics?: import("./metrics").Metrics,
 *   sharedCache?: { url: string, timeoutMs: number }, images?: import("./images").ImageSettings }} [options]
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
 *   answers (metrics.js), if anything; sharedCache: the Valkey or Redis that a fleet's servers share,
 *   behind each one's memory (shared-cache.js), and how long a page may wait for it; images: the
 *   settings of Gatsby's Image CDN and File CDN (images.js), none kept in memory or on disk by default here.
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
  sharedCache,
  images: imageSettings = IMAGES,
} = {}) {
  // Loading Gatsby's engine at the first page blocks the event loop for as long as it takes (over a
  // second on a busy machine): a lag of the server's own, which limits.js tells from a load.
  const engineLoad = { ms: 0, at: -Infinity }
  const build = loadBuild(root, {
    onEngineLoaded: (ms) => Object.assign(engineLoad, { ms, at: performance.now() }),
  })
  // Node gives request headers in lower case.
  const countryKey = countryHeader?.toLowerCase()
  const table = routes.routeTable(build, countryKey)
  // Security headers that Gatsby gives every path ("/*"), for what is not a static file: server-rendered
  // pages, redirects, errors. (Gatsby Functions get theirs from the adapter, with gatsby-config's.)
  const everyPath = build.headerRoutes.find((route) => route.path.endsWith("/*"))?.headers ?? []
  const everyPathHeaders = Object.fromEntries(everyPath.map(({ key, value }) => [key, value]))
  const { logger, failureLog, access, clientAddress } = serverLogs({
    write: log,
    accessLog,
    format: logFormat,
    trustProxy,
  })
  const { reportFailure } = failureLog
  /** @type {WeakMap<import("node:http").IncomingMessage, import("./metrics").AnswerKind>} how each request was answered */
  const kindOf = new WeakMap()
  /** @type {Set<string>} the pages said to be not shared for a visitor's credentials, once each */
  const personal = new Set()
  const shared =
    sharedCache && cacheBytes
      ? connectShared(sharedCache, build.buildId, { logger, failureLog, metrics })
      : undefined
  const engine = engineStage({
    engines: build.compiled,
    cacheBytes,
    secret: build.secret,
    everyPath: everyPathHeaders,
    reportFailure,
    shared,
    onLookup: (result, request, tier) => {
      metrics?.cacheLookup(result, tier)
      if (result !== "miss") kindOf.set(request.raw, "cached")
    },
    onPersonal: (route, header) => {
      if (personal.has(route.path)) return
      personal.add(route.path)
      const name = header === "cookie" ? "Cookie" : "Authorization"
      logger.warn(
        `${route.path}: an answer that a shared cache may keep, rendered for a request with ${name}, ` +
          `without Vary: ${name}: it goes to that visitor alone, never kept or shared (what is rendered ` +
          `for requests without ${name} is). A page that shows what it reads of ${name} says Vary: ${name}.`,
      )
    },
  })
  const files = fileStore({
    publicDir: path.join(root, "public"),
    everyPath: everyPathHeaders,
    memoryBytes: fileMemoryBytes,
  })
  const finder = routes.addressFinder(table, routes.plainIndex(build))
  const images = imageLane({
    prefix: build.pathPrefix ?? "",
    allowed: build.remoteFileAllowedUrls ?? [],
    everyPath: everyPathHeaders,
    settings: imageSettings,
    shared,
    metrics,
    onProblem: (kind, detail) => failureLog.reportProblem(kind, { detail }),
  })
  const { handle, notFound } = dispatcher({
    build,
    table,
    finder,
    images,
    redirect: redirectStage(countryKey),
    runFunction: functionStage({
      compiled: build.compiled,
      everyPath,
      errorPage: build.errorPage,
      bodyLimit,
      reportFailure,
    }),
    renderPage: engine.renderPage,
    files,
    answeredAs: (request, kind) => kindOf.set(request.raw, kind),
  })

  // The requests past the fast lane being answered: the lane counts them, the limits read them.
  const held = { requests: 0 }
  const app = await createFramework({
    timeouts: { ...TIMEOUTS, ...changed },
    logger,
    trustProxy,
    // Files and fresh cached pages first, and the bound on requests in flight (fast-lane.js).
    front: (framework, listening) =>
      fastLane(
        {
          fixed: finder.fixed,
          trailingSlash: build.trailingSlash,
          files,
          images,
          answerFromCache: engine.answerFromCache,
          access,
          clientAddress,
          metrics,
          maxInFlight,
          held,
          listening,
        },
        framework,
      ),
  })
  await applyLimits(app, { pressure, bodyLimit, linger, everyPath, held, engineLoad })

  if (metrics) {
    app.addHook("onResponse", async (request, reply) => {
      metrics.answered(kindOf.get(request.raw) ?? "error", reply.statusCode, reply.elapsedTime / 1000)
    })
  }
  if (access)
    app.addHook("onRequest", async (request, reply) => access(request.raw, reply.raw, request.id, request.ip))
  app.addHook("onClose", async () => {
    failureLog.stop()
    await engine.stop()
  })

  // For load balancers: 200 while it serves. Once it shuts down it takes no new connections, and
  // fastify answers 503 on those it still has.
  app.get("/healthz", (request, reply) => {
    kindOf.set(request.raw, "health")
    return reply.header("cache-control", "no-store").send("ok\n")
  })
  // Every other path, to the address it is at (dispatch.js): one route of the framework's for all of
  // them, rather than one an address, which held kilobytes and took a fifth of a millisecond to add
  // each (a site of 10,000 pages started in 6.6 s, with 850 MB).
  app.route({ method: app.supportedMethods, url: "/*", handler: handle })
  app.setNotFoundHandler(notFound)
  app.setErrorHandler(
    errorHandler({
      errorPage: build.errorPage,
      reportFailure,
      onShed: (request) => {
        metrics?.shed("pressure")
        kindOf.set(request.raw, "shed")
      },
    }),
  )

  return app
}

/**
 * The fleet's tier of the cache (shared-cache.js), its failures in the one error log, each kind once,
 * and in the metrics.
 * @param {{ url: string, timeoutMs: number }} options @param {string} buildId
 * @param {{ logger: import("pino").Logger, failureLog: ReturnType<typeof import("./failure-log").boundedFailureLog>,
 *   metrics: import("./metrics").Metrics | undefined }} logs
 */
function connectShared({ url, timeoutMs }, buildId, { logger, failureLog, metrics }) {
  return createSharedCache({
    url,
    timeoutMs,
    buildId,
    onFailure: (reason, error) => {
      metrics?.sharedCacheFailure(reason)
      failureLog.reportProblem(`shared cache: ${reason}`, {
        detail: `${error instanceof Error ? error.message : error}; pages render as without it`,
      })
    },
    onBack: () => logger.info("shared cache: back; pages are shared again"),
  })
}

module.exports = { createServer }
