import {
  canonicalPath,
  caselessRedirects,
  conditionsHold,
  answersAt,
  plainIndex,
  plainRoutes,
  redirectLocation,
  routeTable,
  sameSite,
} from "../src/routes"

// Gatsby's routing rules, one table a rule: what the server does with an address, before any request.

type Build = Parameters<typeof routeTable>[0]
type Redirect = Parameters<typeof conditionsHold>[0]
type Candidate = Parameters<typeof answersAt>[0]

type Route = Build["routes"][number]

const page = (path: string, filePath = `public${path}index.html`): Route => ({
  type: "static",
  path,
  filePath,
  headers: [],
})
const file = (path: string): Route => ({ type: "static", path, filePath: `public${path}`, headers: [] })
const fileCandidate = (path: string, page: boolean): Candidate => ({
  kind: "file",
  route: { type: "static", path, filePath: `public${path}`, headers: [] },
  page,
  headers: {},
})
const fn = (path: string): Candidate => ({
  kind: "function",
  route: { type: "function", path, functionId: "f" },
})
const engine = (path: string): Route => ({ type: "function", path, functionId: "ssr-engine" })
const redirect = (path: string, toPath: string, more: Partial<Redirect> = {}): Redirect => ({
  type: "redirect",
  path,
  toPath,
  status: 301,
  headers: [],
  ...more,
})

function build(routes: Build["routes"]): Build {
  return { trailingSlash: "always", routes, functions: [], headerRoutes: [] }
}

// What answers at each address of a table: its router pattern and the kinds of its candidates in order.
function summary(routes: Build["routes"]): Array<[string, string[]]> {
  return routeTable(build(routes), undefined).map(({ url, candidates }) => [
    url,
    candidates.map((c) => (c.kind === "redirect" ? `redirect ${c.route.toPath}` : c.kind)),
  ])
}

test.each<[string, Build["routes"], Array<[string, string[]]>]>([
  ["a page answers at its path without the slash", [page("/about/")], [["/about", ["file"]]]],
  ["the home page at /", [page("/")], [["/", ["file"]]]],
  ["a file at its file name", [file("/app-0123.js")], [["/app-0123.js", ["file"]]]],
  [
    "a file that Gatsby lists with a trailing slash at its file name",
    [page("/favicon.svg/", "public/favicon.svg")],
    [["/favicon.svg", ["file"]]],
  ],
  ["a named param as the router's", [engine("/breeds/:breed/")], [["/breeds/:breed", ["engine"]]]],
  [
    "a wildcard without its name, and its base too",
    [engine("/app/*slug/")],
    [
      ["/app/*", ["engine"]],
      ["/app", ["engine"]],
    ],
  ],
  [
    "a wildcard's base keeps its own page, wherever Gatsby lists it",
    [engine("/app/*"), page("/app/")],
    [
      ["/app/*", ["engine"]],
      ["/app", ["file"]],
    ],
  ],
  [
    "a page wins over a redirect from its address",
    [redirect("/old/", "/new/"), page("/old/")],
    [["/old", ["file"]]],
  ],
  [
    "a forced redirect comes before the page",
    [redirect("/old/", "/new/", { force: true }), page("/old/")],
    [["/old", ["redirect /new/", "file"]]],
  ],
  [
    "the first route Gatsby lists for a path answers it",
    [engine("/dup/"), page("/dup/")],
    [["/dup", ["engine"]]],
  ],
  ["a redirect from another site is left to a CDN", [redirect("https://old.example/*", "/")], []],
])("%s", (_rule, routes, expected) => {
  expect(summary(routes)).toEqual(expected)
})

test("puts the pathPrefix of a prefixed build before every file's name", () => {
  const routes = [
    page("/prefix/page-data/app-data.json", "public/page-data/app-data.json"),
    page("/prefix/app.js", "public/app.js"),
  ]

  expect(summary(routes).map(([url]) => url)).toEqual(["/prefix/page-data/app-data.json", "/prefix/app.js"])
})

test.each<[string, "always" | "never" | "ignore", string, string | undefined]>([
  ["always adds the slash", "always", "/about", "/about/"],
  ["always keeps a path that has it", "always", "/about/", undefined],
  ["never takes the slash away", "never", "/about/", "/about"],
  ["never keeps a path without it", "never", "/about", undefined],
  ["ignore keeps either", "ignore", "/about", undefined],
  ["the home page is / in every mode", "never", "/", undefined],
  ["a path that starts with two slashes stays on this site", "always", "//evil.example", "/evil.example/"],
])("trailingSlash: %s", (_rule, mode, pathname, expected) => {
  expect(canonicalPath(mode, pathname)).toBe(expected)
})

test.each<[string, Redirect, Record<string, string>, string, string, string]>([
  ["keeps the request's query", redirect("/old/", "/new/"), {}, "/old/", "?a=1", "/new/?a=1"],
  ["keeps the target's own query instead", redirect("/old/", "/new/?b=2"), {}, "/old/", "?a=1", "/new/?b=2"],
  [
    "puts what the wildcard matched in the target",
    redirect("/go/*", "/to/*"),
    { "*": "a/b" },
    "/go/a/b",
    "",
    "/to/a/b",
  ],
  [
    "gives the wildcard the request's slash back",
    redirect("/go/*", "/to/*"),
    { "*": "a" },
    "/go/a/",
    "",
    "/to/a/",
  ],
  [
    "puts a named param in the target",
    redirect("/dogs/:breed/", "/breeds/:breed/"),
    { breed: "pug" },
    "/dogs/pug/",
    "",
    "/breeds/pug/",
  ],
  [
    "sends a wildcard that names a site to this site",
    redirect("/go/*", "/*"),
    { "*": "/evil.example" },
    "/go//evil.example",
    "",
    "/evil.example",
  ],
  [
    "sends a redirect to another site where the site asked for it",
    redirect("/docs/", "https://docs.example/"),
    {},
    "/docs/",
    "",
    "https://docs.example/",
  ],
])("a redirect's Location %s", (_rule, route, params, pathname, query, expected) => {
  expect(redirectLocation(route, params, pathname, query)).toBe(expected)
})

test.each<[string, Redirect["conditions"], Record<string, string>, boolean]>([
  ["no conditions hold for everyone", undefined, {}, true],
  ["a country from the CDN's header", { country: ["us", "ca"] }, { "x-country": "CA" }, true],
  ["another country", { country: "us" }, { "x-country": "de" }, false],
  ["no country header: no country is known", { country: "us" }, {}, false],
  ["a language the client accepts", { language: "de" }, { "accept-language": "de-CH, en;q=0.5" }, true],
  ["a language the client refuses with q=0", { language: "de" }, { "accept-language": "en, de;q=0" }, false],
  [
    "both must hold",
    { country: "de", language: "de" },
    { "x-country": "de", "accept-language": "en" },
    false,
  ],
  ["a condition the server cannot check never holds", { role: "admin" }, {}, false],
])("a redirect's conditions: %s", (_rule, conditions, headers, expected) => {
  expect(conditionsHold(redirect("/", "/x/", { conditions }), headers, "x-country")).toBe(expected)
})

test.each<[string, Candidate, string, boolean]>([
  ["a file at its name", fileCandidate("/app.js", false), "/app.js", true],
  ["a file not with a slash added", fileCandidate("/app.js", false), "/app.js/", false],
  ["a page at either form", fileCandidate("/about/", true), "/about", true],
  ["a function at a fixed address, without a slash", fn("/api/form/"), "/api/form", true],
  [
    "a function at a fixed address, not with a slash, whatever the manifest's form",
    fn("/api/form/"),
    "/api/form/",
    false,
  ],
  ["a function with a param, either form", fn("/api/users/:id"), "/api/users/1/", true],
  ["a function with a wildcard, either form", fn("/api/files/*"), "/api/files/a/b", true],
])("%s answers", (_rule, candidate, pathname, expected) => {
  expect(answersAt(candidate, pathname)).toBe(expected)
})

test.each<[string, string, string]>([
  ["a path as it is", "/ok/", "/ok/"],
  ["two slashes to one", "//evil.example/", "/evil.example/"],
  ["a backslash after a slash to one slash", "/\\evil.example/", "/evil.example/"],
  ["another site's URL as the site wrote it", "https://docs.example/", "https://docs.example/"],
])("sameSite keeps %s", (_rule, location, expected) => {
  expect(sameSite(location)).toBe(expected)
})

test("finds a redirect whatever the case of the address, unless it asked not to ignore case", () => {
  const table = routeTable(
    build([redirect("/Old/", "/new/"), redirect("/strict/", "/new/", { ignoreCase: false })]),
    undefined,
  )
  const find = caselessRedirects(table)

  expect(find("/OLD/")?.address.url).toBe("/Old")
  expect(find("/STRICT/")).toBeUndefined()
})

test.each([
  ["no prefix", ""],
  ["a path prefix", "/prefix"],
])("answers a plain route made of its line as the route itself does (%s)", (_what, prefix) => {
  const set = [{ key: "cache-control", value: "public, max-age=0, must-revalidate" }]
  const routes: Route[] = [
    { ...page(`${prefix}/`, "public/index.html"), headers: set },
    { ...page(`${prefix}/posts/1/`, "public/posts/1/index.html"), headers: set },
    {
      type: "static",
      path: `${prefix}/page-data/app-data.json`,
      filePath: "public/page-data/app-data.json",
      headers: set,
    },
    // A file's path as Gatsby may give it, with a slash.
    { type: "static", path: `${prefix}/favicon.svg/`, filePath: "public/favicon.svg", headers: set },
    { ...engine(`${prefix}/ssr/`) },
    { ...engine(`${prefix}/archive/1/`), cache: true } as Route,
    { ...engine(`${prefix}/page-data/archive/1/page-data.json`), cache: true } as Route,
  ]
  // As the adapter writes them: each route's headers as the index of its set.
  const indexed = routes.map((route) =>
    "headers" in route && route.headers ? { ...route, headers: 0 } : route,
  )

  const { plain, rest } = plainRoutes(indexed as Route[], prefix)
  const find = plainIndex({ ...build([]), plain, pathPrefix: prefix, headerSets: [set] })

  expect(rest).toEqual([])
  for (const address of routeTable({ ...build(routes), pathPrefix: prefix }, undefined)) {
    expect(find(address.url)).toEqual(address)
  }
})

test("keeps a route at an address that has another, or is a wildcard's base, as a route", () => {
  const indexed = [
    { ...page("/old/"), headers: 0 },
    redirect("/old/", "/new/"),
    { type: "function", path: "/app/*", functionId: "ssr-engine" },
    { ...page("/app/"), headers: 0 },
  ] as unknown as Route[]

  const { plain, rest } = plainRoutes(indexed, "")

  expect(plain).toBe("")
  expect(rest).toEqual(indexed)
})
