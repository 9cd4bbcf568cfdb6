// @ts-check
const { randomBytes, randomUUID } = require("node:crypto")
const { mkdirSync, writeFileSync } = require("node:fs")
const path = require("node:path")
const { measureWorker } = require("./src/memory")
const { COMPRESSIBLE, precompress } = require("./src/precompress")
const { CONDITIONS, ENGINE, ROUTES_FILE, plainRoutes, sitePrefix } = require("./src/routes")
const { writeStandalone } = require("./src/standalone")

/**
 * @typedef {import("gatsby").RoutesManifest[number]} ManifestRoute
 * @typedef {{ key: string, value: string }} Header
 */

/**
 * A Gatsby adapter for any Node host: at the end of `gatsby build` it writes the routes and functions
 * manifests, as Gatsby gives them, to .cache/node-server/routes.json, which start.js (the package's bin) serves;
 * compresses public/'s text files; and writes the standalone folder that Node alone runs.
 * @type {import("gatsby").AdapterInit}
 */
const nodeAdapter = () => ({
  name: "gatsby-adapter-node",
  // The server follows the routes as Gatsby gives them, with their prefix, in every trailingSlash mode.
  config: () => ({ supports: { pathPrefix: true, trailingSlash: ["always", "never", "ignore"] } }),
  async adapt({ routesManifest, functionsManifest, headerRoutes, trailingSlash, reporter }) {
    // Gatsby only warns about a setting an adapter cannot serve; a redirect condition this server
    // cannot check would send everyone one way, so the build stops.
    const unknown = routesManifest.flatMap((route) =>
      route.type === "redirect"
        ? Object.keys(/** @type {{ conditions?: object }} */ (route).conditions ?? {})
            .filter((key) => !CONDITIONS.includes(key))
            .map((key) => `${route.path} (${key})`)
        : [],
    )
    if (unknown.length) {
      reporter.panic(
        `gatsby-adapter-node: the Node server can check the redirect conditions ${CONDITIONS.join(" and ")}, ` +
          `not those of these redirects: ${unknown.join(", ")}. Leave them to a CDN that can, or remove them.`,
      )
    }
    const configHeaders = configHeadersMatcher(reporter)
    const everyPath = headerRoutes.find((route) => route.path.endsWith("/*"))?.headers ?? []
    const routes = routesManifest
      .filter((route) => !precompressed(route))
      .map((route) =>
        // Gatsby gives function routes no headers; the engine adds gatsby-config's to the pages it renders,
        // and the server adds these to what Gatsby Functions answer.
        route.type === "function" && route.functionId !== ENGINE
          ? { ...route, headers: configHeaders(route.path, everyPath) }
          : route,
      )
    const functions = functionsManifest.map(({ functionId, pathToEntryPoint }) => ({
      functionId,
      pathToEntryPoint,
    }))
    mkdirSync(path.dirname(ROUTES_FILE), { recursive: true })
    // Each build its own id: the keys of the pages a fleet shares (src/shared-cache.js), so that a new
    // build never answers with the last one's.
    const buildId = randomUUID()
    // And its own secret: the key of the digests that stand for a visitor's Cookie or Authorization in
    // the cache of a page that varies by them (src/response-cache.js), the same in every server of the
    // fleet, and never written to the store.
    const secret = randomBytes(32).toString("base64url")
    // Most routes of a big site as a line each, the rest as routes (src/routes.js).
    const pathPrefix = sitePrefix(routes)
    const { headerSets, routes: indexed } = withHeaderSets(routes)
    const { plain, rest } = plainRoutes(indexed, pathPrefix)
    writeFileSync(
      ROUTES_FILE,
      JSON.stringify({
        buildId,
        secret,
        trailingSlash,
        pathPrefix,
        headerSets,
        plain,
        routes: rest,
        functions,
        headerRoutes,
      }),
    )
    reporter.info(
      `gatsby-adapter-node: ${routes.length} routes in ${ROUTES_FILE}; serve them with npx gatsby-adapter-node`,
    )
    const compressed = await precompress(path.resolve("public"))
    reporter.info(`gatsby-adapter-node: ${compressed} files of public/ compressed (brotli and gzip)`)
    // What a worker of this build takes, so that the server runs as many as the memory holds.
    const measured = measureWorker(process.cwd())
    if (measured instanceof Error)
      reporter.warn(
        `gatsby-adapter-node: a worker of this build could not be measured (${measured.message}); the server counts 512 MiB a worker`,
      )
    else
      reporter.info(
        `gatsby-adapter-node: a worker of this build takes ${Math.round(measured.restBytes / 2 ** 20)} MiB at rest`,
      )
    const started = Date.now()
    const standalone = await writeStandalone({ siteDir: process.cwd(), functions: functionsManifest })
    reporter.info(
      `gatsby-adapter-node: the standalone build, with ${standalone.files} files beside public/, in ` +
        `${path.relative(process.cwd(), standalone.dir)} (${Date.now() - started} ms); run it with node server.js`,
    )
  },
})

/**
 * The routes with each one's headers as the index of a set of them: a site's thousands of routes have a
 * handful of sets (a page's, a hashed file's, ...), which the routes file would otherwise repeat for
 * each, as two thirds of its bytes. The server gives every route of a set the same array (src/build.js).
 * @template {{ headers?: Header[] }} R @param {R[]} routes
 * @returns {{ headerSets: Header[][], routes: Array<Omit<R, "headers"> & { headers?: number }> }}
 */
function withHeaderSets(routes) {
  /** @type {Map<string, number>} */
  const index = new Map()
  /** @type {Header[][]} */
  const headerSets = []
  const indexed = routes.map((route) => {
    if (!route.headers) return /** @type {Omit<R, "headers">} */ (route)
    const key = JSON.stringify(route.headers)
    let set = index.get(key)
    if (set === undefined) {
      set = headerSets.push(route.headers) - 1
      index.set(key, set)
    }
    return { ...route, headers: set }
  })
  return { headerSets, routes: indexed }
}

/**
 * A brotli or gzip form of a text file, which an earlier build left in public/ (precompress.js) and
 * Gatsby lists as a file of its own: the server sends it in place of the file, never at its own address.
 * @param {ManifestRoute} route
 */
function precompressed(route) {
  return (
    route.type === "static" &&
    /\.(br|gz)$/.test(route.filePath) &&
    COMPRESSIBLE.test(route.filePath.slice(0, -3))
  )
}

/**
 * gatsby-config's `headers` for a path, by Gatsby's own matcher: the adapter API hands them over for
 * files only. (Gatsby's internals: if a Gatsby release moves them, Functions get the defaults only.)
 * @param {import("gatsby").Reporter} reporter
 * @returns {(routePath: string, defaults: Header[]) => Header[]}
 */
function configHeadersMatcher(reporter) {
  try {
    const { store } = require("gatsby/dist/redux")
    const { createHeadersMatcher } = require("gatsby/dist/utils/adapter/create-headers")
    const { config, program } = store.getState()
    return createHeadersMatcher(config.headers, program.prefixPaths ? (config.pathPrefix ?? "") : "")
  } catch (error) {
    reporter.warn(`gatsby-adapter-node: gatsby-config's headers will not reach Gatsby Functions (${error})`)
    return (_routePath, defaults) => defaults
  }
}

module.exports = nodeAdapter
