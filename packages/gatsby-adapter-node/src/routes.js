// @ts-check
// Gatsby's routing rules, for the routes that the adapter (../index.js) wrote at build time: which route
// answers an address, which redirect fires, and a page's one address under trailingSlash.
const { randomBytes, randomUUID } = require("node:crypto")
const path = require("node:path")
const FindMyWay = require("find-my-way")
const { LRUCache } = require("lru-cache")

/**
 * @typedef {import("gatsby").RoutesManifest[number]} ManifestRoute
 * @typedef {Extract<ManifestRoute, { type: "static" }>} FileRoute
 * @typedef {Extract<ManifestRoute, { type: "function" }> & { headers?: Header[] }} FunctionRoute
 * @typedef {Extract<ManifestRoute, { type: "redirect" }> & RedirectOptions} RedirectRoute
 * @typedef {{ force?: boolean, ignoreCase?: boolean, conditions?: Record<string, unknown> }} RedirectOptions
 * @typedef {{ key: string, value: string }} Header
 * @typedef {"always" | "never" | "ignore"} TrailingSlash
 * @typedef {{ buildId?: string, secret?: string, trailingSlash: TrailingSlash, pathPrefix?: string, routes: Array<FileRoute | FunctionRoute | RedirectRoute>,
 *   plain?: string, headerSets?: Header[][], functions: Array<{ functionId: string, pathToEntryPoint: string }>,
 *   headerRoutes: Array<{ path: string, headers: Header[] }>, remoteFileAllowedUrls?: string[] }} Build
 *   plain: the plain routes, one a line (plainRoutes); headerSets: the sets of headers that routes name
 *   by their index; remoteFileAllowedUrls: the URL patterns of the remote files the site may show
 *   (Gatsby's addRemoteFileAllowedUrl), which the Image CDN fetches from (images.js)
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

// The address pattern a route is at: a file's name under the prefix; anything else at its path as a
// router takes it.
/** @param {ManifestRoute} route @param {string} prefix */
function addressOf(route, prefix) {
  return route.type === "static" && !route.filePath.endsWith("/index.html")
    ? fileUrl(prefix, route.filePath)
    : routerUrl(route.path)
}

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
  const prefix = build.pathPrefix ?? sitePrefix(build.routes)
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
    const url = addressOf(route, prefix)
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

/** @type {WeakMap<Header[], Record<string, string>>} */
const headerObjects = new WeakMap()

// Headers as the reply takes them, made once for every route that has the same (build.js gives them
// one array), rather than once a route or at every request.
/** @param {Header[]} headers */
function headerObject(headers) {
  let object = headerObjects.get(headers)
  if (!object) {
    object = Object.fromEntries(headers.map(({ key, value }) => [key, value]))
    headerObjects.set(headers, object)
  }
  return object
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
// One array for the addresses that vary by nothing, most of a big site's.
/** @type {string[]} */
const NO_HEADERS = []

/** @param {Candidate[]} candidates @param {string | undefined} countryHeader */
function conditionHeaders(candidates, countryHeader) {
  if (!candidates.some((c) => c.kind === "redirect")) return NO_HEADERS
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
  return filePath.startsWith("public/")
    ? `${prefix}${filePath.slice("public".length)}`
    : `${prefix}/${path.posix.relative("public", filePath)}`
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

/**
 * What the adapter writes to ROUTES_FILE at the end of gatsby build (../index.js): the build's routes,
 * most of a big site's as a line each (plainRoutes), the rest as routes, each set of headers once; with
 * an id of the build's own, the keys of the pages a fleet shares (shared-cache.js), so that a new build
 * never answers with the last one's, and a secret of its own, the key of the digests that stand for a
 * visitor's Cookie or Authorization in the cache of a page that varies by them (response-cache.js), the
 * same in every server of a fleet, and never written to the store.
 * @param {Pick<Build, "trailingSlash" | "functions" | "headerRoutes" | "remoteFileAllowedUrls"> & { routes: Array<ManifestRoute & { headers?: Header[] }> }} build
 */
function routesFile({ trailingSlash, routes, functions, headerRoutes, remoteFileAllowedUrls = [] }) {
  const pathPrefix = sitePrefix(/** @type {Build["routes"]} */ (routes))
  const { headerSets, routes: indexed } = withHeaderSets(routes)
  const { plain, rest } = plainRoutes(indexed, pathPrefix)
  return {
    buildId: randomUUID(),
    secret: randomBytes(32).toString("base64url"),
    trailingSlash,
    pathPrefix,
    headerSets,
    plain,
    routes: rest,
    functions,
    headerRoutes,
    remoteFileAllowedUrls,
  }
}

/**
 * The routes with each one's headers as the index of a set of them: a site's thousands of routes have a
 * handful of sets (a page's, a hashed file's, ...), which the routes file would otherwise repeat for
 * each, as two thirds of its bytes. The server gives every route of a set the same array (build.js).
 * @param {Array<ManifestRoute & { headers?: Header[] }>} routes
 * @returns {{ headerSets: Header[][], routes: Array<ManifestRoute & { headers?: unknown }> }}
 */
function withHeaderSets(routes) {
  /** @type {Map<string, number>} */
  const index = new Map()
  /** @type {Header[][]} */
  const headerSets = []
  const indexed = routes.map((route) => {
    if (!route.headers) return route
    const key = JSON.stringify(route.headers)
    let set = index.get(key)
    if (set === undefined) {
      set = headerSets.push(route.headers) - 1
      index.set(key, set)
    }
    // The set's index where the manifest has the headers themselves.
    return /** @type {ManifestRoute & { headers?: unknown }} */ (
      /** @type {unknown} */ ({ ...route, headers: set })
    )
  })
  return { headerSets, routes: indexed }
}

// Plain routes, most of a big site's (a page of its own, its page-data, a file, a server-rendered or
// deferred page), each the only route at a fixed address whose file is where its path says: written at
// build time as a line each, a letter and the path (plainRoutes), and held by the server as a Map from
// each address to where its line is, a few dozen bytes a route; a route is made of its line when asked
// for (plainIndex), and the last ones asked for are kept. The letters: p a page's file, f another file
// (each with the index of its set of headers), e a page that the engine renders, d a deferred one.
// Addresses made of a line and kept, at most.
const PLAIN_KEPT = 10_000

/**
 * At build time: the routes that a line each describes, and the rest, as routes.
 * @template {ManifestRoute & { headers?: unknown }} R @param {R[]} routes with their headers as the index of a set
 * @param {string} prefix the site's path prefix (sitePrefix)
 * @returns {{ plain: string, rest: R[] }}
 */
function plainRoutes(routes, prefix) {
  /** @type {Map<string, number>} */
  const routesAt = new Map()
  /** @type {Set<string>} */
  const wildcardBases = new Set()
  for (const route of routes) {
    if (!route.path.startsWith("/")) continue
    const url = addressOf(route, prefix)
    routesAt.set(url, (routesAt.get(url) ?? 0) + 1)
    if (url.endsWith("/*")) wildcardBases.add(url.slice(0, -2) || "/")
  }
  /** @param {R} route @returns {string | undefined} its line, where it is plain */
  const line = (route) => {
    if (!route.path.startsWith("/")) return undefined
    const url = addressOf(route, prefix)
    if (/[:*]/.test(url) || routesAt.get(url) !== 1 || wildcardBases.has(url) || !url.startsWith(prefix))
      return undefined
    const keys = Object.keys(route)
    if (route.type === "static" && typeof route.headers === "number" && keys.length === 4) {
      const page = route.filePath.endsWith("/index.html")
      // Its address and file are then what its path says (a file's path as Gatsby gives it may end
      // with a slash: /favicon.svg/).
      if (route.filePath !== plainFile(url, prefix, page) || routerUrl(route.path) !== url) return undefined
      return `${page ? "p" : "f"}${route.headers}\t${route.path}`
    }
    if (
      route.type === "function" &&
      route.functionId === ENGINE &&
      keys.every((key) => ENGINE_KEYS.includes(key))
    )
      return `${route.cache ? "d" : "e"}\t${route.path}`
    return undefined
  }
  /** @type {string[]} */
  const lines = []
  /** @type {R[]} */
  const rest = []
  for (const route of routes) {
    const plain = line(route)
    if (plain) lines.push(plain)
    else rest.push(route)
  }
  return { plain: lines.join("\n"), rest }
}

// What an engine's route may have to be plain.
const ENGINE_KEYS = ["type", "path", "functionId", "cache"]

// Where a plain route's file is: a page's index.html in its folder, another file at its name.
/** @param {string} url @param {string} prefix @param {boolean} page */
function plainFile(url, prefix, page) {
  const rest = url.slice(prefix.length)
  return page ? `public${rest === "/" || rest === "" ? "/" : `${rest}/`}index.html` : `public${rest}`
}

/**
 * At start: the plain routes of the build, by address, each made of its line when asked for.
 * @param {Build} build @returns {(url: string) => Address | undefined}
 */
function plainIndex(build) {
  const plain = build.plain ?? ""
  const prefix = build.pathPrefix ?? ""
  /** @type {Map<string, number>} an address and where its line starts */
  const lineAt = new Map()
  for (let start = 0; start < plain.length;) {
    const end = plain.indexOf("\n", start)
    const tab = plain.indexOf("\t", start)
    const at = end === -1 ? plain.length : end
    const gatsbyPath = plain.slice(tab + 1, at)
    lineAt.set(routerUrl(gatsbyPath), start)
    start = at + 1
  }
  /** @type {LRUCache<string, Address>} */
  const made = new LRUCache({ max: PLAIN_KEPT })
  return (url) => {
    const found = made.get(url)
    if (found) return found
    const start = lineAt.get(url)
    if (start === undefined) return undefined
    const end = plain.indexOf("\n", start)
    const tab = plain.indexOf("\t", start)
    const code = plain[start]
    const gatsbyPath = plain.slice(tab + 1, end === -1 ? plain.length : end)
    /** @type {FileRoute | FunctionRoute} */
    const route =
      code === "p" || code === "f"
        ? {
            type: "static",
            path: gatsbyPath,
            filePath: plainFile(url, prefix, code === "p"),
            headers: (build.headerSets ?? [])[Number(plain.slice(start + 1, tab))] ?? [],
          }
        : { type: "function", path: gatsbyPath, functionId: ENGINE, ...(code === "d" && { cache: true }) }
    const address = { url, candidates: [candidate(route)], vary: NO_HEADERS }
    made.set(url, address)
    return address
  }
}

// Past this, a dynamic segment (a breed) gets 414 without asking the page, as fastify's router did.
const MAX_PARAM_LENGTH = 100

/**
 * The address a request's path is at, as a router finds it (decoded as find-my-way decodes it, either
 * form of a trailing slash): fixed addresses, most of a big site's, in a Map, which holds each in a
 * few dozen bytes; the addresses with params or a wildcard in a router (find-my-way), which holds
 * each in kilobytes, in the order Gatsby lists them.
 * @param {Address[]} table @param {(url: string) => Address | undefined} [plain] the build's plain routes (plainIndex)
 * @returns {{ find: (url: string) => { address: Address, params: Record<string, string | undefined> } | "too long" | "malformed" | undefined,
 *   fixed: (pathname: string) => Address | undefined }} find: the address of a request's URL; fixed: the
 *   address with no params of a path as it is (not decoded), either form of its trailing slash
 */
function addressFinder(table, plain = () => undefined) {
  /** @type {Map<string, Address>} */
  const exact = new Map()
  /** @type {import("find-my-way").Instance<import("find-my-way").HTTPVersion.V1>} */
  const patterns = FindMyWay({
    ignoreTrailingSlash: true,
    maxParamLength: MAX_PARAM_LENGTH,
    // Found, with no store: a segment too long.
    onMaxParamLength: () => {},
  })
  for (const address of table) {
    if (/[:*]/.test(address.url)) patterns.on("GET", address.url, () => {}, address)
    else exact.set(address.url, address)
  }
  /** @param {string} pathname */
  const fixed = (pathname) => {
    const url = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname
    return exact.get(url) ?? plain(url)
  }
  /** @param {string} url */
  const find = (url) => {
    // Decoded as find-my-way decodes a path (decodeURI: %2F stays a %2F, not a slash).
    const end = url.search(/[?#]/)
    const raw = end === -1 ? url : url.slice(0, end)
    let pathname
    try {
      pathname = raw.includes("%") ? decodeURI(raw) : raw
    } catch {
      return "malformed"
    }
    const address = fixed(pathname)
    if (address) return { address, params: {} }
    const found = patterns.find("GET", url)
    if (!found) return undefined
    if (!found.store) return "too long"
    return { address: /** @type {Address} */ (found.store), params: found.params }
  }
  return { find, fixed }
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
  routesFile,
  plainRoutes,
  plainIndex,
  sitePrefix,
  addressFinder,
  caselessRedirects,
  conditionsHold,
  answersAt,
  redirectLocation,
  canonicalPath,
  sameSite,
}
