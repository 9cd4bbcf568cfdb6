// @ts-check
const { mkdirSync, writeFileSync } = require("node:fs")
const path = require("node:path")

// Where the adapter leaves the build's routes for server.js, beside the engines that Gatsby writes in
// .cache/, so that `gatsby clean` removes it with them.
const ROUTES_FILE = path.join(".cache", "node-server", "routes.json")

/**
 * A Gatsby adapter for any Node host: at the end of `gatsby build` it writes the routes and functions
 * manifests, as Gatsby gives them, to .cache/node-server/routes.json; `npm start` (server.js) serves them.
 * @type {import("gatsby").AdapterInit}
 */
const nodeAdapter = () => ({
  name: "node-adapter",
  // Paths as the manifest gives them: with pathPrefix, or trailingSlash "ignore" (both forms of every
  // path), the server would need more than that; Gatsby stops the build with a message instead.
  config: () => ({ supports: { pathPrefix: false, trailingSlash: ["always", "never"] } }),
  adapt({ routesManifest, functionsManifest, headerRoutes, reporter }) {
    mkdirSync(path.dirname(ROUTES_FILE), { recursive: true })
    const functions = functionsManifest.map(({ functionId, pathToEntryPoint }) => ({
      functionId,
      pathToEntryPoint,
    }))
    writeFileSync(ROUTES_FILE, JSON.stringify({ routes: routesManifest, functions, headerRoutes }))
    reporter.info(
      `node-adapter: ${routesManifest.length} routes in ${ROUTES_FILE}; serve them with npm start`,
    )
  },
})

module.exports = nodeAdapter
module.exports.ROUTES_FILE = ROUTES_FILE
