// @ts-check
// The build that the server serves, loaded and checked once at start: the routes that the adapter
// wrote (../index.js), what Gatsby compiled (the SSR engine, Gatsby Functions) and the error pages.
// Each fault says which command makes what is missing. Gatsby's SSR engine is loaded at the first
// request for a page it renders, not at start: it is most of a server's memory and start (0.65 s and
// 170 MB for a site of 10,000 pages here, 1.2 s and 300 MB for 50,000, more with its pages), and a
// site's static pages and files never need it.
const { createHash, randomBytes } = require("node:crypto")
const { existsSync, readFileSync } = require("node:fs")
const path = require("node:path")
const { ENGINE, ROUTES_FILE } = require("./routes")

/**
 * @typedef {import("./routes").Build} Build
 * @typedef {import("./functions").GatsbyFunction} GatsbyFunction
 * @typedef {import("./functions").FunctionConfig} FunctionConfig
 * @typedef {import("./engine").Engine} Engine
 * @typedef {{ handler: GatsbyFunction & Engine, config: FunctionConfig | undefined }} Compiled
 * @typedef {Build & { compiled: Map<string, Compiled>, errorPage: string | undefined,
 *   notFoundPage: Buffer | undefined, buildId: string, secret: string }} LoadedBuild
 *   compiled: by functionId; errorPage: public/500.html, where the site has a 500 page;
 *   notFoundPage: public/404.html, where the site has a 404 page; buildId: the one the adapter gave this
 *   build (routes.json), or, for routes written without one, a digest of them; secret: the build's
 *   secret (routes.json), or, for routes written without one, this process's own (a fleet's servers
 *   then share no page that varies by credentials)
 */

/**
 * @param {string} root the site's folder
 * @param {{ onEngineLoaded?: (ms: number) => void }} [options] onEngineLoaded: called with how long
 *   the engine took to load, at the first page it renders
 * @returns {LoadedBuild}
 */
function loadBuild(root, { onEngineLoaded } = {}) {
  const build = readRoutes(root)
  const compiled = new Map(
    build.functions.map(({ functionId, pathToEntryPoint }) => {
      const file = path.join(root, pathToEntryPoint)
      return [functionId, functionId === ENGINE ? lazyEngine(file, onEngineLoaded) : loadCompiled(file)]
    }),
  )
  // The routes without the files: the site's public/ was deleted or not copied.
  const appData = path.join(root, "public", "page-data", "app-data.json")
  if (!existsSync(appData)) {
    throw new Error(`The build's files are missing: there is no ${appData}. Run \`gatsby build\` again.`)
  }
  for (const route of build.routes) {
    if (route.type === "function" && !compiled.has(route.functionId)) {
      throw new Error(`The routes name a function ${route.functionId} that the build does not have`)
    }
  }
  const errorFile = path.join(root, "public", "500.html")
  const notFoundFile = path.join(root, "public", "404.html")
  return {
    ...build,
    buildId:
      build.buildId ?? createHash("sha256").update(JSON.stringify(build.routes)).digest("hex").slice(0, 16),
    secret: build.secret ?? randomBytes(32).toString("base64url"),
    compiled,
    errorPage: existsSync(errorFile) ? readFileSync(errorFile, "utf8") : undefined,
    notFoundPage: existsSync(notFoundFile) ? readFileSync(notFoundFile) : undefined,
  }
}

/** @param {string} root @returns {Build} */
function readRoutes(root) {
  /** @type {unknown} */
  let build
  try {
    build = JSON.parse(readFileSync(path.join(root, ROUTES_FILE), "utf8"))
  } catch (error) {
    throw new Error(
      `No build to serve in ${root} (${ROUTES_FILE}: ${error instanceof Error ? error.message : error}). ` +
        "Run `gatsby build` in the site's folder first, with gatsby-adapter-node as the adapter in its " +
        "gatsby-config, and start the server there (or name the folder with SITE_DIR).",
    )
  }
  const { routes, headerSets, plain } =
    /** @type {{ routes?: unknown, headerSets?: unknown, plain?: unknown }} */ (build ?? {})
  if (!Array.isArray(routes) || (routes.length === 0 && !plain)) {
    throw new Error(`${path.join(root, ROUTES_FILE)} lists no routes. Run \`gatsby build\` again.`)
  }
  // The adapter writes each route's headers as the index of a set (../index.js): every route of a set
  // gets the same array, which the server makes its headers from once.
  if (Array.isArray(headerSets)) {
    for (const route of routes) {
      if (typeof route.headers === "number") route.headers = headerSets[route.headers]
    }
  }
  return /** @type {Build} */ (build)
}

// What Gatsby compiled exports the handler as its default, and a Function's own config beside it.
/** @param {string} file @returns {Compiled} */
function loadCompiled(file) {
  mustExist(file)
  /** @type {(GatsbyFunction & Engine) | { default: GatsbyFunction & Engine, config?: FunctionConfig }} */
  const mod = require(file)
  return typeof mod === "function"
    ? { handler: mod, config: undefined }
    : { handler: mod.default, config: mod.config }
}

// The SSR engine, loaded when it first renders a page (once: Node keeps the module).
/** @param {string} file @param {((ms: number) => void) | undefined} onLoaded @returns {Compiled} */
function lazyEngine(file, onLoaded) {
  mustExist(file)
  /** @type {Compiled["handler"] | undefined} */
  let loaded
  const load = () => {
    const started = performance.now()
    const { handler } = loadCompiled(file)
    writeImageAddressesInEngine()
    onLoaded?.(performance.now() - started)
    return handler
  }
  const handler = /** @type {Compiled["handler"]} */ (
    (/** @type {never} */ req, /** @type {never} */ res) => (loaded ??= load())(req, res)
  )
  return { handler, config: undefined }
}

// A remote image or file that a page queries at request time gets its address from this server's
// generators (image-urls.js, in Gatsby's own format), which images.js answers. Without one, Gatsby's
// engine hands the making of it to Gatsby's local jobs, which do not run outside `gatsby build`: the
// failure ended the process at the first server-rendered page with an image. (Gatsby's engine reads
// these from its global, which its lambda sets where an adapter names generators: imageCDN "request".)
function writeImageAddressesInEngine() {
  const gatsby = /** @type {{ __GATSBY?: Record<string, unknown> }} */ (globalThis).__GATSBY
  if (!gatsby) return
  gatsby.imageCDNUrlGeneratorModulePath ??= require.resolve("./image-urls")
  gatsby.fileCDNUrlGeneratorModulePath ??= require.resolve("./image-urls")
}

/** @param {string} file */
function mustExist(file) {
  // gatsby develop deletes the SSR engine that gatsby build wrote.
  if (!existsSync(file))
    throw new Error(`The build has no ${file} (gatsby develop deletes it). Run \`gatsby build\` again.`)
}

module.exports = { loadBuild }
