// @ts-check
// The production server for the routes that index.js wrote at build time: `npm start`, after
// `npm run build`. Plain JavaScript (checked by tsc), so that a host runs it as it is, with no build
// step and nothing from devDependencies.
const { existsSync, readFileSync } = require("node:fs")
const { STATUS_CODES } = require("node:http")
const path = require("node:path")
const Fastify = require("fastify").default
const fastifyCompress = require("@fastify/compress").default
const fastifyStatic = require("@fastify/static").default
const { ROUTES_FILE } = require("./index")

/**
 * @typedef {import("gatsby").RoutesManifest} RoutesManifest
 * @typedef {import("gatsby").RoutesManifest[number]} Route
 * @typedef {{ path: string, headers: Array<{ key: string, value: string }> }} HeaderRoute
 * @typedef {{ routes: RoutesManifest, functions: Array<{ functionId: string, pathToEntryPoint: string }>,
 *   headerRoutes: HeaderRoute[] }} BuildRoutes
 * @typedef {{ status(code: number): GatsbyResponse, setHeader(name: string, value: string | string[]): GatsbyResponse,
 *   header(name: string, value: string | string[]): GatsbyResponse, send(body?: unknown): void,
 *   json(body: unknown): void, end(body?: string | Buffer): void,
 *   redirect(statusOrUrl: number | string, url?: string): void }} GatsbyResponse
 * @typedef {{ url: string, rawUrl: string, method: string, headers: import("node:http").IncomingHttpHeaders,
 *   query: unknown, params: unknown, body: unknown }} GatsbyRequest
 * @typedef {(req: GatsbyRequest, res: GatsbyResponse) => unknown} GatsbyFunction
 * @typedef {{ headersMs: number, requestMs: number, idleMs: number, socketMs: number }} Timeouts
 */

// Seconds, not minutes: a client that sends its headers or body slowly, or keeps an idle socket,
// gives it up. idleMs is Node's own default; behind a load balancer start.js may raise it (see there).
/** @type {Timeouts} */
const TIMEOUTS = { headersMs: 10_000, requestMs: 30_000, idleMs: 5_000, socketMs: 30_000 }

// Longer URLs get 414; nginx's default allows about as much in a request line.
const MAX_URL_LENGTH = 8 * 1024
// Request bodies, which only Gatsby Functions read.
const BODY_LIMIT = 1024 * 1024
const PAGE_METHODS = ["GET", "HEAD"]

/**
 * @param {{ root?: string, accessLog?: boolean, timeouts?: Partial<Timeouts>, log?: (line: string) => void }} [options]
 *   root: the site's folder, with public/ and .cache/ from `gatsby build`; timeouts: those to change.
 */
async function createServer({
  root = process.cwd(),
  accessLog = false,
  timeouts: changed = {},
  log = (line) => process.stderr.write(`${line}\n`),
} = {}) {
  const timeouts = { ...TIMEOUTS, ...changed }
  const build = readBuildRoutes(root)
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
    bodyLimit: BODY_LIMIT,
    // /ssr matches /ssr/'s route, and the hook below redirects it there, as gatsby serve does.
    routerOptions: { ignoreTrailingSlash: true },
    // A malformed escape in the path (400), a dynamic segment (a breed) over fastify's maxParamLength
    // of 100 characters (414, without asking the page): fastify's own status,
    // with a short message rather than its JSON.
    frameworkErrors: (error, _request, reply) => plainError(reply, error.statusCode ?? 400),
  })
  const reportError = boundedErrorLog(log)

  await app.register(fastifyCompress, { threshold: 1024 })
  // Headers come from Gatsby's routes manifest, so the plugin adds no Cache-Control of its own.
  await app.register(fastifyStatic, { root: path.join(root, "public"), serve: false, cacheControl: false })

  // Gatsby Functions read any body; their own code decides what it accepts.
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  )
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body))

  app.addHook("onRequest", async (request, reply) => {
    if (request.url.length > MAX_URL_LENGTH) return plainError(reply, 414)
  })
  app.addHook("onRequest", async (request, reply) => {
    const canonical = request.routeOptions.url
    if (!canonical || canonical === "/healthz" || !PAGE_METHODS.includes(request.method)) return
    const [pathname, query] = splitUrl(request.url)
    if (canonical.endsWith("/") !== pathname.endsWith("/")) {
      const other = canonical.endsWith("/") ? `${pathname}/` : pathname.slice(0, -1)
      return reply.redirect(`${other}${query}`, 301)
    }
  })
  if (accessLog) {
    app.addHook("onResponse", async (request, reply) => log(accessLogLine(request, reply)))
  }

  // Security headers that Gatsby gives every path ("/*"), for what is not a static file: function
  // answers, redirects, errors.
  const everyPath = build.headerRoutes.find((route) => route.path === "/*")?.headers ?? []
  app.addHook("onSend", async (_request, reply) => {
    for (const { key, value } of everyPath) if (!reply.hasHeader(key)) reply.header(key, value)
  })

  // For load balancers: 200 while it serves. Once it shuts down it takes no new connections, and
  // fastify answers 503 on those it still has.
  app.get("/healthz", (_request, reply) => reply.header("cache-control", "no-store").send("ok\n"))

  const functions = new Map(
    build.functions.map(({ functionId, pathToEntryPoint }) => [
      functionId,
      loadFunction(path.join(root, pathToEntryPoint)),
    ]),
  )
  for (const route of build.routes) {
    const url = routeUrl(route)
    // A redirect from another domain (createRedirect with a full URL) is for a CDN, not this server.
    if (!url.startsWith("/")) continue
    // Gatsby lists the most specific route first; a path it lists twice goes to the first.
    if (app.hasRoute({ method: "GET", url })) continue
    app.route({
      method: app.supportedMethods,
      url,
      ...(route.type === "function" ? functionRoute(route, functions) : fileOrRedirectRoute(route)),
    })
  }

  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).header("cache-control", "no-store").sendFile("404.html"),
  )
  app.setErrorHandler((/** @type {import("fastify").FastifyError} */ error, request, reply) => {
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 ? error.statusCode : 500
    if (status >= 500) reportError(error, request)
    if (status === 500) return reply.code(500).header("cache-control", "no-store").sendFile("500.html")
    // 413 for a body too large, 414 for a path segment too long, …: a short message, no stack.
    return plainError(reply, status)
  })

  return app
}

/** @param {string} root @returns {BuildRoutes} */
function readBuildRoutes(root) {
  try {
    return JSON.parse(readFileSync(path.join(root, ROUTES_FILE), "utf8"))
  } catch (error) {
    throw new Error(
      `No build to serve in ${root} (${ROUTES_FILE}: ${error instanceof Error ? error.message : error}). ` +
        "Run `npm run build` first, with node-adapter in gatsby-config.ts.",
    )
  }
}

// Gatsby's manifest gives a file whose extension it does not know its trailing slash (/favicon.svg/,
// /styles.css/); a browser asks for the file by its name.
/** @param {Route} route */
function routeUrl(route) {
  if (route.type !== "static" || route.filePath.endsWith("/index.html")) return route.path
  return `/${path.posix.relative("public", route.filePath)}`
}

/** @param {string} file @returns {GatsbyFunction} */
function loadFunction(file) {
  // gatsby develop deletes the SSR engine that gatsby build wrote.
  if (!existsSync(file))
    throw new Error(`The build has no ${file} (gatsby develop deletes it). Run \`npm run build\` again.`)
  /** @type {GatsbyFunction | { default: GatsbyFunction }} */
  const mod = require(file)
  return typeof mod === "function" ? mod : mod.default
}

/**
 * A file from public/ with the headers Gatsby gave it, or Gatsby's redirect. Files are for GET and HEAD.
 * @param {Exclude<Route, { type: "function" }>} route
 * @returns {Pick<import("fastify").RouteOptions, "onRequest" | "handler">}
 */
function fileOrRedirectRoute(route) {
  const headers = Object.fromEntries(route.headers.map(({ key, value }) => [key, value]))
  return {
    onRequest: async (request, reply) => {
      if (!PAGE_METHODS.includes(request.method)) {
        return plainError(reply.header("allow", PAGE_METHODS.join(", ")), 405)
      }
    },
    handler:
      route.type === "static"
        ? (_request, reply) => reply.headers(headers).sendFile(path.relative("public", route.filePath))
        : (_request, reply) => reply.headers(headers).redirect(route.toPath, route.status),
  }
}

/**
 * A route that Gatsby runs a function for: the SSR engine (pages with getServerData, and their
 * page-data) or a Gatsby Function. It gets an Express-like request and response, as Gatsby gives them.
 * @param {Extract<Route, { type: "function" }>} route
 * @param {Map<string, GatsbyFunction>} functions
 * @returns {Pick<import("fastify").RouteOptions, "handler">}
 */
function functionRoute(route, functions) {
  const run = functions.get(route.functionId)
  if (!run) throw new Error(`The routes name a function ${route.functionId} that the build does not have`)
  return {
    handler: async (request, reply) => {
      await run(
        {
          // The engine finds the page by this, so it is the path alone.
          url: splitUrl(request.url)[0],
          rawUrl: `${request.protocol}://${request.host}${request.url}`,
          method: request.method,
          headers: request.headers,
          query: request.query,
          params: request.params,
          body: request.body,
        },
        gatsbyResponse(reply),
      )
      return reply
    },
  }
}

// A client's mistake: its status and name, which no cache keeps.
/** @param {import("fastify").FastifyReply} reply @param {number} status */
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

// As Express's, which Gatsby's functions are written for: a string is HTML unless the function said.
/** @param {import("fastify").FastifyReply} reply @returns {GatsbyResponse} */
function gatsbyResponse(reply) {
  /** @type {GatsbyResponse} */
  const res = {
    status: (code) => (reply.code(code), res),
    setHeader: (name, value) => (reply.header(name, value), res),
    header: (name, value) => (reply.header(name, value), res),
    send: (body) => {
      if (typeof body === "string" && !reply.hasHeader("content-type")) reply.type("text/html; charset=utf-8")
      reply.send(body)
    },
    json: (body) => void reply.type("application/json; charset=utf-8").send(JSON.stringify(body)),
    end: (body) => void reply.send(body ?? ""),
    redirect: (statusOrUrl, url) =>
      void (typeof statusOrUrl === "number"
        ? reply.redirect(url ?? "/", statusOrUrl)
        : reply.redirect(statusOrUrl)),
  }
  return res
}

// Combined Log Format, as nginx and Apache write it, plus the time taken: one line a request.
/** @param {import("fastify").FastifyRequest} request @param {import("fastify").FastifyReply} reply */
function accessLogLine(request, reply) {
  const time = commonLogTime(new Date())
  const length = reply.getHeader("content-length") ?? "-"
  const referer = request.headers.referer ?? "-"
  const agent = request.headers["user-agent"] ?? "-"
  return `${request.ip} - - [${time}] "${request.method} ${request.url} HTTP/${request.raw.httpVersion}" ${reply.statusCode} ${length} "${referer}" "${agent}" ${reply.elapsedTime.toFixed(1)}ms`
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
  /** @param {Error} error @param {import("fastify").FastifyRequest} request */
  return (error, request, now = Date.now()) => {
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
