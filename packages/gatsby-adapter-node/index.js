// @ts-check
const { mkdirSync, writeFileSync } = require("node:fs")
const path = require("node:path")
const { measureWorker } = require("./src/memory")
const { COMPRESSIBLE, precompress } = require("./src/precompress")
const { CONDITIONS, ENGINE, ROUTES_FILE, routesFile } = require("./src/routes")
const { writeStandalone } = require("./src/standalone")

/**
 * @typedef {import("gatsby").RoutesManifest[number]} ManifestRoute
 * @typedef {{ key: string, value: string }} Header
 */

/**
 * A Gatsby adapter for any Node host: at the end of `gatsby build` it writes the routes and functions
 * manifests, as Gatsby gives them, to .cache/node-server/routes.json, which start.js (the package's bin) serves;
 * compresses public/'s text files; and writes the standalone folder that Node alone runs. Option:
 * imageCDN, "build" (Gatsby makes a static page's remote images at build time, the server the rest at
 * request time) or "request" (the server makes every one).
 * @type {import("gatsby").AdapterInit<{ imageCDN?: "build" | "request" }>}
 */
const nodeAdapter = ({ imageCDN = "build" } = {}) => ({
  name: "gatsby-adapter-node",
  // The server follows the routes as Gatsby gives them, with their prefix, in every trailingSlash mode.
  config: () => ({
    supports: { pathPrefix: true, trailingSlash: ["always", "never", "ignore"] },
    // Every remote image made at request time, by this server, rather than at build time (a site
    // whose CMS has thousands of images builds without downloading them).
    ...(imageCDN === "request" && {
      imageCDNUrlGeneratorModulePath: require.resolve("./src/image-urls"),
      fileCDNUrlGeneratorModulePath: require.resolve("./src/image-urls"),
    }),
  }),
  async adapt({
    routesManifest,
    functionsManifest,
    headerRoutes,
    trailingSlash,
    remoteFileAllowedUrls,
    reporter,
  }) {
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
    writeFileSync(
      ROUTES_FILE,
      JSON.stringify(
        routesFile({
          trailingSlash,
          routes,
          functions,
          headerRoutes,
          remoteFileAllowedUrls: remoteFileAllowedUrls.map(({ urlPattern }) => urlPattern),
        }),
      ),
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
