// @ts-check
// Gatsby's routing rules, for the routes that the adapter (../index.js) wrote at build time: which route
// answers an address, which redirect fires, and a page's one address under trailingSlash.
const path = require("node:path")
const FindMyWay = require("find-my-way")

/**
 * @typedef {import("gatsby").RoutesManifest[number]} ManifestRoute
 * @typedef {Extract<ManifestRoute, { type: "static" }>} FileRoute
 * @typedef {Extract<ManifestRoute, { type: "function" }> & { headers?: Header[] }} FunctionRoute
 * @typedef {Extract<ManifestRoute, { type: "redirect" }> & RedirectOptions} RedirectRoute
 * @typedef {{ force?: boolean, ignoreCase?: boolean, conditions?: Record<string, unknown> }} RedirectOptions
 * @typedef {{ key: string, value: string }} Header
 * @typedef {"always" | "never" | "ignore"} TrailingSlash
 * @typedef {{ buildId?: string, secret?: string, trailingSlash: TrailingSlash, pathPrefix: string, routes: Array<FileRoute | FunctionRoute | RedirectRoute>,
 *   functions: Array<{ functionId: string, pathToEntryPoint: string }>, headerRoutes: Array<{ path: string, headers: Header[] }> }} Build
 * @typedef {{ kind: "file", route: FileRoute, page: boolean, headers: Record<string, string> }
 *   | { kind: "engine", route: FunctionRoute, page: boolean }
 *   | { kind: "function", route: FunctionRoute }
 *   | { kind: "redirect", route: RedirectRoute, headers: Record<string, string> }} Candidate
 * @typedef {{ url: string, candidates: Candidate[], vary: string[] }} Address one address pattern, and what may answer it
 */

// Where the adapter leaves the routes, beside the engines that Gatsby writes in .cache/, so that
// `gatsby clean` removes it with them.
const ROUTES_FILE = path.join(".cache", "node-server", "routes.json")

// The function that Gatsby names for pages with getServerData and DSG pages, and their page-data.
const ENGINE = "ssr-engine"

// The redirect conditions that a Node server can check: Gatsby documents these two.
const CONDITIONS = ["country", "language"]

// Longer URLs get 414; nginx's default allows about as much in a request line.
const MAX_URL_LENGTH = 8 * 1024

// Gatsby's paths as a router takes them: no trailing slash (a page answers at both forms, and
// trailingSlash picks one), and a wildcard without its name or a slash after it.
/** @param {string} gatsbyPath */
function routerUrl(gatsbyPath) {
  const url = gatsbyPath.replace(/\*[^/]*\/?$/, "*")
  return url.length > 1 && url.endsWith("/") ? url.slice(0, -1) : url
}

/**
 * One Address per address pattern, most specific first, as Gatsby lists them. Within one: forced
 * redirects, then the page, file or function, then the redirects that a page there would shadow.
 * @param {Build} build @param {string | undefined} countryHeader @returns {Address[]}
 */
function routeTable(build, countryHeader) {
  const prefix = sitePrefix(build.routes)
  /** @type {Map<string, { redirects: RedirectRoute[], route?: Candidate, wildcardBase?: Candidate }>} */
  const byUrl = new Map()
  /** @param {string} url */
  const at = (url) => {
    const entry = byUrl.get(url) ?? { redirects: [] }
    byUrl.set(url, entry)
    return entry
  }
  for (const route of build.routes) {
    // A redirect from another domain (createRedirect with a full URL) is for a CDN, not this server.
    if (!route.path.startsWith("/")) continue
    const url =
      route.type === "static" && !route.filePath.endsWith("/index.html")
        ? fileUrl(prefix, route.filePath)
        : routerUrl(route.path)
    const entry = at(url)
    if (route.type === "redirect") {
      entry.redirects.push(route)
      continue
    }
    // Gatsby lists the most specific route first; a path it lists twice goes to the first.
    if (entry.route) continue
    entry.route = candidate(route)
    // A wildcard matches its base too (/app/* answers /app/), which a router's /app/* does not; a route
    // of the base's own wins, wherever Gatsby lists it.
    if (url.endsWith("/*")) at(url.slice(0, -2) || "/").wildcardBase ??= entry.route
  }
  return [...byUrl].map(([url, { redirects, route, wildcardBase }]) => {
    const answering = route ?? wildcardBase
    const forced = redirects.filter((redirect) => redirect.force)
    const shadowed = answering ? [] : redirects.filter((redirect) => !redirect.force)
    /** @type {Candidate[]} */
    const candidates = [
      ...forced.map(redirectCandidate),
      ...(answering ? [answering] : []),
      ...shadowed.map(redirectCandidate),
    ]
    return { url, candidates, vary: conditionHeaders(candidates, countryHeader) }
  })
}

// Headers as the reply takes them, made once rather than at every request.
/** @param {Header[]} headers */
function headerObject(headers) {
  return Object.fromEntries(headers.map(({ key, value }) => [key, value]))
}

/** @param {RedirectRoute} route @returns {Candidate} */
function redirectCandidate(route) {
  return { kind: "redirect", route, headers: headerObject(route.headers) }
}

/** @param {FileRoute | FunctionRoute} route @returns {Candidate} */
function candidate(route) {
  if (route.type === "static") {
    return {
      kind: "file",
      route,
      page: route.filePath.endsWith("/index.html"),
      headers: headerObject(route.headers),
    }
  }
  if (route.functionId === ENGINE) return { kind: "engine", route, page: !route.path.endsWith(".json") }
  return { kind: "function", route }
}

// The request headers that an address's answer depends on, for caches in front (Vary).
/** @param {Candidate[]} candidates @param {string | undefined} countryHeader */
function conditionHeaders(candidates, countryHeader) {
  const keys = new Set(
    candidates.flatMap((c) => (c.kind === "redirect" ? Object.keys(c.route.conditions ?? {}) : [])),
  )
  return [...keys].flatMap((key) =>
    key === "language" ? ["accept-language"] : key === "country" && countryHeader ? [countryHeader] : [],
  )
}

// A file is asked for by its name under the site's prefix. Gatsby's routes give some files a path of
// another shape: a trailing slash (/favicon.svg/), or a pattern (/page-data/app/*/page-data.json) for
// the page-data of a client-only route, which the browser asks for by its file name ([...]).
/** @param {string} prefix @param {string} filePath */
function fileUrl(prefix, filePath) {
  return `${prefix}/${path.posix.relative("public", filePath)}`
}

// The pathPrefix that the build's paths carry (gatsby build --prefix-paths), or "": app-data.json is
// in every build, at <prefix>/page-data/app-data.json.
/** @param {Build["routes"]} routes */
function sitePrefix(routes) {
  const appData = routes.find(
    (route) => route.type === "static" && route.filePath === "public/page-data/app-data.json",
  )
  return appData ? appData.path.slice(0, -"/page-data/app-data.json".length) : ""
}

// Redirects that ignore case (Gatsby's default), for an address that no route matched as it was
// written: /REDIRECT finds /redirect's.
/** @param {Address[]} table */
function caselessRedirects(table) {
  /** @type {import("find-my-way").Instance<import("find-my-way").HTTPVersion.V1>} */
  const router = FindMyWay({ caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: false })
  for (const { url, candidates, vary } of table) {
    const redirects = candidates.filter((c) => c.kind === "redirect" && c.route.ignoreCase !== false)
    if (redirects.length) router.on("GET", url, () => {}, { url, candidates: redirects, vary })
  }
  /** @param {string} pathname @returns {{ address: Address, params: Record<string, string | undefined> } | undefined} */
  return (pathname) => {
    const found = router.find("GET", pathname)
    return found ? { address: /** @type {Address} */ (found.store), params: found.params } : undefined
  }
}

/**
 * Whether a redirect's conditions hold for a request: its country from the header that a CDN in front
 * sets (countryHeader, unset: no country is known), its language from Accept-Language.
 * @param {RedirectRoute} route
 * @param {import("node:http").IncomingHttpHeaders} headers
 * @param {string | undefined} countryHeader
 */
function conditionsHold(route, headers, countryHeader) {
  for (const [key, wanted] of Object.entries(route.conditions ?? {})) {
    const values = [wanted].flat().map((value) => String(value).toLowerCase())
    if (key === "country") {
      const country = countryHeader ? headers[countryHeader] : undefined
      if (typeof country !== "string" || !values.includes(country.trim().toLowerCase())) return false
    } else if (key === "language") {
      const languages = acceptedLanguages(headers["accept-language"])
      if (!languages.some((tag) => values.includes(tag) || values.includes(tag.split("-")[0]))) return false
    } else {
      return false
    }
  }
  return true
}

// "de-CH, de;q=0.9, en;q=0" → ["de-ch", "de"]: the tags a client accepts, lower-cased.
/** @param {string | undefined} header */
function acceptedLanguages(header = "") {
  return header
    .split(",")
    .map((part) => part.trim().toLowerCase().split(";"))
    .filter(([tag, ...params]) => tag && !params.some((param) => /^\s*q=0(\.0*)?\s*$/.test(param)))
    .map(([tag]) => tag)
}

/**
 * Where a redirect sends a request: its toPath, with what the wildcard matched in place of its `*`
 * (and named params in place of `:name`), and the request's query unless toPath has its own.
 * @param {RedirectRoute} route @param {Record<string, string | undefined>} params
 * @param {string} pathname @param {string} query
 */
function redirectLocation(route, params, pathname, query) {
  let location = route.toPath
  for (const [name, value = ""] of Object.entries(params)) {
    // The router matches /a/b/ as /a/b (ignoreTrailingSlash): the wildcard gets the request's slash back.
    const matched = name === "*" && pathname.endsWith("/") && !value.endsWith("/") ? `${value}/` : value
    location = name === "*" ? location.replace("*", matched) : location.replace(`:${name}`, matched)
  }
  return sameSite(location.includes("?") ? location : `${location}${query}`)
}

// A path that starts with two slashes (or a backslash after one) is another site to a browser:
// //evil.example/. The site's own redirects may name another site; what a request put there may not.
/** @param {string} location */
function sameSite(location) {
  return location.startsWith("/") ? location.replace(/^[/\\]+/, "/") : location
}

/**
 * Whether a candidate answers a path that its address's pattern matched. The router takes either form
 * of a path, with or without a trailing slash, for a page's sake (trailingSlash then picks one); a file
 * (/app.js) answers at its name alone, not at /app.js/, and a Gatsby Function at a fixed address at
 * /api/form alone, not /api/form/, as under gatsby serve and develop (whatever form the manifest gives
 * its path in). A function with params or a wildcard answers either form.
 * @param {Candidate} candidate @param {string} pathname
 */
function answersAt(candidate, pathname) {
  if (candidate.kind === "file") return candidate.page || !pathname.endsWith("/")
  if (candidate.kind !== "function") return true
  return /[:*]/.test(candidate.route.path) || !pathname.endsWith("/")
}

/**
 * The one address of a page under trailingSlash, or undefined where the request already uses it
 * ("ignore" keeps both).
 * @param {TrailingSlash} trailingSlash @param {string} pathname
 */
function canonicalPath(trailingSlash, pathname) {
  if (pathname === "/" || trailingSlash === "ignore") return undefined
  const slash = pathname.endsWith("/")
  if (trailingSlash === "always" && !slash) return sameSite(`${pathname}/`)
  if (trailingSlash === "never" && slash) return sameSite(pathname.slice(0, -1))
  return undefined
}

/** @param {string} url @returns {[string, string]} the path, and the query with its "?" */
function splitUrl(url) {
  const query = url.indexOf("?")
  return query === -1 ? [url, ""] : [url.slice(0, query), url.slice(query)]
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

module.exports = {
  ROUTES_FILE,
  MAX_URL_LENGTH,
  splitUrl,
  originForm,
  ENGINE,
  CONDITIONS,
  routeTable,
  caselessRedirects,
  conditionsHold,
  answersAt,
  redirectLocation,
  canonicalPath,
  sameSite,
}
