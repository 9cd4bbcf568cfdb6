import { readFileSync } from "node:fs"
import { request as httpRequest } from "node:http"
import path from "node:path"
import { expect, test } from "../sites"

// Every route of the build, asked of the standalone server and of `gatsby serve` on the same build:
// status, Content-Type, Location and body must be the same, but for the differences that the README
// lists (What differs from gatsby serve), each named here with its reason.

type Probe = { method: string; path: string; headers?: Record<string, string>; body?: string }
type Answer = { status: number; type: string; location: string; body: string }
type ManifestRoute = { type: string; path: string; functionId?: string }

// What a site's routes ask for beyond their own paths.
const extraProbes: Record<string, Probe[]> = {
  "starter-default": [
    { method: "GET", path: "/using-ssr/?breed=pug" },
    // Its getServerData answers 500 when its data fails; the site has no 500 page.
    { method: "GET", path: "/using-ssr/?breed=none" },
  ],
  "no-404-page": [{ method: "GET", path: "/time/?at=noon" }],
  functions: [
    {
      method: "POST",
      path: "/api/form",
      headers: { "content-type": "application/json" },
      body: '{"name":"Paul"}',
    },
    {
      method: "POST",
      path: "/api/form",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Paul&house=Atreides",
    },
    { method: "POST", path: "/api/form", headers: { "content-type": "text/plain" }, body: "Paul" },
    { method: "POST", path: "/api/form" },
    { method: "POST", path: "/api/form", headers: { "content-type": "application/json" }, body: '{"name":' },
    { method: "GET", path: "/api/form/" },
    { method: "GET", path: "/api/users/7/" },
  ],
  "client-only": [
    { method: "GET", path: "/app/profile/" },
    { method: "GET", path: "/app/login/" },
    { method: "GET", path: "/app/some/deep/path/" },
  ],
}

// Differences that stay, by site: the request, how the answers differ, and why (the README's table
// says the same).
type Deliberate = Record<string, { differs: string; why: string }>
const trailingSlash = (page: string) => ({
  [`GET ${page}`]: {
    differs: `status 301 here, 200 there; location ${page}/ here, none there`,
    why: "trailingSlash (always, by default) gives a page one address; gatsby serve redirects static pages but renders SSR and DSG pages at both",
  },
})
const engineErrorPage = (request: string) => ({
  [request]: {
    differs:
      "type text/html;charset=utf-8 here, text/plain;charset=utf-8 there; body (66 bytes here, 22 there)",
    why: "a page whose getServerData throws, on a site with no 500 page, gets Gatsby's engine's own 500 page, as on any adapter; gatsby serve sends a line of text",
  },
})
const deliberate: Record<string, Deliberate> = {
  "starter-default": { ...trailingSlash("/using-dsg"), ...trailingSlash("/using-ssr") },
  "no-404-page": {
    ...trailingSlash("/time"),
    "GET /broken": {
      differs: "status 301 here, 500 there; location /broken/ here, none there",
      why: trailingSlash("/broken")["GET /broken"].why,
    },
    ...engineErrorPage("GET /broken/"),
    ...engineErrorPage("GET /page-data/broken/page-data.json"),
  },
  functions: {},
  "client-only": { ...trailingSlash("/app/x") },
}

// A path of Gatsby's routes with something in each param and wildcard.
const concrete = (routePath: string) => routePath.replace(/:[^/]+/g, "x").replace(/\*.*$/, "x/")

function probes(site: string, app: string): Probe[] {
  const { routes, plain = "" } = JSON.parse(
    readFileSync(path.join(site, ".cache/node-server/routes.json"), "utf8"),
  ) as { routes: ManifestRoute[]; plain?: string }
  // The routes file holds most routes as a line each, a letter and the route's path (src/routes.js).
  const plainPaths = plain ? plain.split("\n").map((line) => line.split("\t")[1]) : []
  const paths = [...routes.map((route) => route.path), ...plainPaths]
    .filter((routePath) => routePath.startsWith("/"))
    .map(concrete)
  // A page's other form (the trailingSlash redirect), an unknown page and an unknown file.
  const pages = paths.filter((p) => p.endsWith("/") && p !== "/").map((p) => p.slice(0, -1))
  const unknown = ["/no-such-page/", "/no-such-file.js", "/api/no-such-function"]
  return [
    ...[...new Set([...paths, ...pages, ...unknown])].map((p) => ({ method: "GET", path: p })),
    ...(extraProbes[app] ?? []),
  ]
}

// One request as a browser sends it, but for compression (which the two servers do differently).
function ask(origin: string, probe: Probe): Promise<Answer> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method: probe.method,
        path: probe.path,
        agent: false,
        headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8", ...probe.headers },
      },
      (res) => {
        let body = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => (body += chunk))
        res.on("end", () =>
          resolve({
            status: res.statusCode!,
            // Media type and charset, as a browser reads them: case and spaces aside.
            type: (res.headers["content-type"] ?? "").toLowerCase().replace(/\s+/g, ""),
            location: res.headers.location ?? "",
            body,
          }),
        )
      },
    )
    req.on("error", reject)
    req.end(probe.body)
  })
}

// How two answers differ: status and Location, and where the status is the same, type and body.
function differences(ours: Answer, serve: Answer): string[] {
  const fields =
    ours.status === serve.status ? (["type", "location", "body"] as const) : (["status", "location"] as const)
  return fields
    .filter((field) => ours[field] !== serve[field])
    .map((field) =>
      field === "body"
        ? `body (${ours.body.length} bytes here, ${serve.body.length} there)`
        : `${field} ${ours[field] || "none"} here, ${serve[field] || "none"} there`,
    )
}

test("answers every route of the build as gatsby serve does, but for the differences the README lists", async ({
  site,
  server,
  serve,
  configuration,
}) => {
  test.setTimeout(120_000)
  const found: Record<string, string> = {}
  let compared = 0
  for (const probe of probes(site, configuration.app)) {
    const key = `${probe.method} ${probe.path}${probe.body === undefined ? "" : ` ${probe.headers?.["content-type"] ?? ""} ${probe.body}`}`
    const [ours, theirs] = [await ask(server.url, probe), await ask(serve.url, probe)]
    const diff = differences(ours, theirs)
    if (diff.length) found[key] = diff.join("; ")
    compared++
  }
  // For the record (the report, and a run's output): how much was compared.
  const summary = `${configuration.app}: ${compared} requests, ${compared - Object.keys(found).length} answered the same`
  test.info().annotations.push({ type: "compared", description: summary })
  console.log(summary)
  const expected = Object.fromEntries(
    Object.entries(deliberate[configuration.app]).map(([key, { differs }]) => [key, differs]),
  )
  expect(found).toEqual(expected)
})
