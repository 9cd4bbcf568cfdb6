import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect, type Socket } from "node:net"
import os from "node:os"
import v8 from "node:v8"
import path from "node:path"
import { Readable } from "node:stream"
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib"
import type { FastifyInstance } from "fastify"
import diagnosticsChannel from "node:diagnostics_channel"
import { readSettings } from "../src/env"
import { UPSTREAM_FAILURES } from "../src/failure-log"
import { createMetrics, metricsServer, type Metrics } from "../src/metrics"
import { TIMEOUTS } from "../src/framework"
import { createServer } from "../src/server"

// The server against a small build written here, in the shape `gatsby build` and index.js leave:
// files in public/, functions in .cache/, and the routes. The real build is tested by the browser
// tests (the node project), which run every production test against `npm start`.

const security = [
  { key: "x-xss-protection", value: "1; mode=block" },
  { key: "x-content-type-options", value: "nosniff" },
  { key: "referrer-policy", value: "same-origin" },
  { key: "x-frame-options", value: "DENY" },
]
const revalidate = [{ key: "cache-control", value: "public, max-age=0, must-revalidate" }, ...security]
const immutable = [{ key: "cache-control", value: "public, max-age=31536000, immutable" }, ...security]

const files: Record<string, string> = {
  // Over 1 KB, so that it is worth compressing.
  "public/index.html": `<!doctype html><title>Home</title><h1>Home</h1>${"<p>Dogs.</p>".repeat(100)}`,
  "public/404.html": "<!doctype html><h1>Page not found</h1>",
  "public/500.html": "<!doctype html><h1>Something went wrong</h1>",
  "public/app-0123abcd.js": "console.log('app')",
  "public/favicon.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
  "public/page-data/app-data.json": '{"webpackCompilationHash":"0123abcd"}',
  "package.json": '{"private": true}',
  // A stand-in for Gatsby's SSR engine, with its (req, res) signature. Pages under /kept/ count their
  // renders, for the tests of the cache, each on a path of its own.
  ".cache/page-ssr/lambda.js": `
    const renders = {}
    exports.default = async (req, res) => {
      if (req.url.startsWith("/kept/") || req.url === "/dsg/") {
        const n = (renders[req.url] = (renders[req.url] || 0) + 1)
        const body = "<h1>render " + n + "</h1>" + (req.url === "/kept/long/" ? "<p>Dogs.</p>".repeat(200) : "")
        if (req.url === "/dsg/") return res.send(body)
        if (req.url === "/kept/private/") return res.setHeader("Cache-Control", "private, max-age=60").send(body)
        if (req.url === "/kept/varied/") return res.setHeader("Cache-Control", "public, max-age=60").setHeader("Vary", "Accept-Language").send(body + "<p>Dogs.</p>".repeat(200))
        if (n > 1 && req.url === "/kept/failing/") return res.status(500).setHeader("Cache-Control", "no-store").send("<h1>No dog</h1>")
        if (n > 1 && req.url === "/kept/slow/") await new Promise((resolve) => setTimeout(resolve, 200))
        if (req.url === "/kept/together/") await new Promise((resolve) => setTimeout(resolve, 100))
        if (req.url === "/kept/fails-once/" || req.url === "/kept/always-fails/") {
          await new Promise((resolve) => setTimeout(resolve, 100))
          if (n === 1 || req.url === "/kept/always-fails/") return res.status(500).setHeader("Cache-Control", "no-store").send("<h1>No dog " + n + "</h1>")
        }
        return res.setHeader("Cache-Control", "public, s-maxage=1, stale-while-revalidate=60").send(body)
      }
      if (req.url === "/timed/") {
        await new Promise((resolve) => setTimeout(resolve, 1))
        require("node:diagnostics_channel").channel("gatsby-adapter-node:upstream-timing").publish({ api: "dog API", ms: 12.34 })
        return res.send("<h1>timed</h1>")
      }
      if (req.url === "/slow/") await new Promise((resolve) => setTimeout(resolve, 300))
      // Held until the test calls globalThis.releaseHeld.
      if (req.url === "/held/") await new Promise((resolve) => (globalThis.releaseHeld = resolve))
      if (req.url === "/throws/") throw new Error("the engine broke")
      if (req.url.startsWith("/throws/")) throw new Error("the engine broke on " + req.url)
      if (req.url === "/breeds/no-json/") return res.json(undefined)
      // As Gatsby's engine adds gatsby-config's headers to a page it renders.
      if (req.url.startsWith("/breeds/")) res.setHeader("X-Custom-Header", "for every path")
      if (req.url === "/ssr/") return res.status(500).setHeader("cache-control", "no-store").send("<h1>No dog</h1>")
      res.send("<h1>" + req.url + "</h1>")
    }`,
  // A Gatsby Function that says what it was given (the fixture suites, test/*-suite/, run functions
  // that gatsby build compiled).
  ".cache/functions/echo.js": `
    module.exports = (req, res) =>
      res.status(201).json({ method: req.method, query: req.query, cookies: req.cookies, url: req.originalUrl, rawUrl: req.rawUrl, body: req.body })`,
  ".cache/functions/fails-later.js": `
    module.exports = async () => { await new Promise((resolve) => setTimeout(resolve, 5)); throw new Error("too late") }`,
}

const routes = {
  trailingSlash: "always",
  routes: [
    { type: "static", path: "/", filePath: "public/index.html", headers: revalidate },
    { type: "static", path: "/app-0123abcd.js", filePath: "public/app-0123abcd.js", headers: immutable },
    {
      type: "static",
      path: "/page-data/app-data.json",
      filePath: "public/page-data/app-data.json",
      headers: revalidate,
    },
    // As Gatsby's manifest gives a file with an extension it does not know.
    { type: "static", path: "/favicon.svg/", filePath: "public/favicon.svg", headers: revalidate },
    // A wildcard listed before the page at its own base, which must still win there.
    { type: "function", path: "/pets/*/", functionId: "ssr-engine" },
    { type: "static", path: "/pets/", filePath: "public/index.html", headers: revalidate },
    { type: "function", path: "/ssr/", functionId: "ssr-engine" },
    { type: "function", path: "/slow/", functionId: "ssr-engine" },
    { type: "function", path: "/held/", functionId: "ssr-engine" },
    { type: "function", path: "/timed/", functionId: "ssr-engine" },
    { type: "function", path: "/throws/", functionId: "ssr-engine" },
    { type: "function", path: "/breeds/:breed/", functionId: "ssr-engine" },
    { type: "function", path: "/throws/:n/", functionId: "ssr-engine" },
    { type: "function", path: "/kept/:page/", functionId: "ssr-engine" },
    // A DSG page: Gatsby renders it once, at its first request.
    { type: "function", path: "/dsg/", functionId: "ssr-engine", cache: true },
    // Gatsby gives a function's path in trailingSlash's form, though it answers without the slash.
    { type: "function", path: "/api/echo/", functionId: "echo", headers: security },
    { type: "function", path: "/api/fails-later/", functionId: "fails-later", headers: security },
    { type: "redirect", path: "/old-dogs/", toPath: "/ssr/", status: 301, headers: security },
    { type: "redirect", path: "/go/*", toPath: "/*", status: 302, headers: security },
    { type: "redirect", path: "https://old.example/*", toPath: "/", status: 301, headers: [] },
  ],
  functions: [
    { functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" },
    { functionId: "echo", pathToEntryPoint: ".cache/functions/echo.js" },
    { functionId: "fails-later", pathToEntryPoint: ".cache/functions/fails-later.js" },
  ],
  headerRoutes: [{ path: "/*", headers: revalidate }],
}

// What the build compressed (precompress.js) beside public/index.html, with a mark of its own, so that a
// test can tell the file the build made from what the server compresses itself.
const precompressedHome = `${files["public/index.html"]}<!-- compressed at build time -->`

let root: string
let app: FastifyInstance
let logged: string[]

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-"))
  for (const [file, text] of Object.entries({
    ...files,
    ".cache/node-server/routes.json": JSON.stringify(routes),
  })) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  writeFileSync(path.join(root, "public/index.html.br"), brotliCompressSync(precompressedHome))
  writeFileSync(path.join(root, "public/index.html.gz"), gzipSync(precompressedHome))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

beforeEach(async () => {
  logged = []
  app = await createServer({ root, log: (line) => logged.push(line) })
})
afterEach(() => app.close())

test("serves a page with the headers Gatsby gave it", async () => {
  const res = await app.inject("/")

  expect(res.statusCode).toBe(200)
  expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(res.headers["cache-control"]).toBe("public, max-age=0, must-revalidate")
  expect(res.headers["x-frame-options"]).toBe("DENY")
})

test("lets browsers keep hashed JavaScript for a year without asking again", async () => {
  const res = await app.inject("/app-0123abcd.js")

  expect(res.statusCode).toBe(200)
  expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
})

test("serves a file by its name where Gatsby's routes gave it a trailing slash", async () => {
  const res = await app.inject("/favicon.svg")

  expect(res.statusCode).toBe(200)
  expect(res.headers["content-type"]).toMatch(/^image\/svg\+xml/)
})

test("redirects a page's address without its trailing slash there, keeping the query", async () => {
  const res = await app.inject("/breeds/husky?after=1.jpg")

  expect(res.statusCode).toBe(301)
  expect(res.headers.location).toBe("/breeds/husky/?after=1.jpg")
})

test("says where a page's one address is in a page of its own, as gatsby serve does", async () => {
  const res = await app.inject("/breeds/husky?a=1&b=2")

  expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(res.body).toContain("<pre>Redirecting to /breeds/husky/?a=1&amp;b=2</pre>")
})

test("says where a site's redirect goes in a text body, for a client that does not follow it", async () => {
  const res = await app.inject("/old-dogs/")

  expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8")
  expect(res.body).toBe("Moved Permanently. Redirecting to /ssr/")
})

test("says where a site's redirect goes in HTML, with a link, to a browser, as Express does", async () => {
  const res = await app.inject({ url: "/old-dogs/?a=1&b=2", headers: { accept: "text/html,*/*;q=0.8" } })

  expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(res.body).toBe(
    '<p>Moved Permanently. Redirecting to <a href="/ssr/?a=1&amp;b=2">/ssr/?a=1&amp;b=2</a></p>',
  )
})

test("sends the redirects that the site asked Gatsby for", async () => {
  const res = await app.inject("/old-dogs/")

  expect(res.statusCode).toBe(301)
  expect(res.headers.location).toBe("/ssr/")
})

test("sends no redirect to another site for an address that starts with two slashes", async () => {
  const res = await app.inject("//example.com/")

  expect(res.statusCode).toBe(404)
  expect(res.headers.location).toBeUndefined()
})

test("answers a wildcard's base with the base's own page, and the paths under it with the wildcard", async () => {
  const base = await app.inject("/pets/")
  const under = await app.inject("/pets/rex/")

  expect(base.body).toContain("<h1>Home</h1>")
  expect(under.body).toBe("<h1>/pets/rex/</h1>")
})

test("sends a splat redirect to this site, whatever the request put in its wildcard", async () => {
  const res = await app.inject("/go//example.com/")

  expect(res.statusCode).toBe(302)
  expect(res.headers.location).toBe("/example.com/")
})

test("says in Server-Timing how long the engine took, and each API call the page made", async () => {
  const res = await app.inject("/timed/")

  expect(res.headers["server-timing"]).toMatch(/^engine;dur=\d+\.\d, upstream;desc="dog API";dur=12\.3$/)
})

test("keeps the status and headers that a page's getServerData set", async () => {
  const res = await app.inject("/ssr/")

  expect(res.statusCode).toBe(500)
  expect(res.headers["cache-control"]).toBe("no-store")
  expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(res.body).toBe("<h1>No dog</h1>")
})

test("sends JSON null, as Express does, when the engine sends JSON of nothing", async () => {
  const res = await app.inject("/breeds/no-json/")

  expect(res.statusCode).toBe(200)
  expect(res.headers["content-type"]).toBe("application/json; charset=utf-8")
  expect(res.body).toBe("null")
})

test("adds Gatsby's security headers to server-rendered pages, and no X-Powered-By or CORS header", async () => {
  const res = await app.inject("/breeds/husky/")

  expect(res.headers["x-content-type-options"]).toBe("nosniff")
  expect(res.headers["x-frame-options"]).toBe("DENY")
  expect(res.headers["x-powered-by"]).toBeUndefined()
  expect(res.headers["access-control-allow-origin"]).toBeUndefined()
})

test("sends a file's gzip form, made at build time, to a browser that accepts gzip", async () => {
  const res = await app.inject({ url: "/", headers: { "accept-encoding": "gzip" } })

  expect(res.headers["content-encoding"]).toBe("gzip")
  expect(gunzipSync(res.rawPayload).toString()).toBe(precompressedHome)
})

test("sends a file's brotli form, made at build time, to a browser that accepts brotli", async () => {
  const res = await app.inject({ url: "/", headers: { "accept-encoding": "br, gzip" } })

  expect(res.headers["content-encoding"]).toBe("br")
  expect(brotliDecompressSync(res.rawPayload).toString()).toBe(precompressedHome)
})

test("tells caches in front that a text file's answer depends on Accept-Encoding, compressed or not", async () => {
  for (const encoding of ["br", "gzip", "identity"]) {
    const res = await app.inject({ url: "/", headers: { "accept-encoding": encoding } })

    expect({ encoding, vary: res.headers.vary }).toEqual({ encoding, vary: "accept-encoding" })
  }
})

test("answers 304, with no body, to a browser that has the server-rendered page it asks for", async () => {
  const first = await app.inject("/breeds/husky/")
  const etag = String(first.headers.etag)

  const again = await app.inject({ url: "/breeds/husky/", headers: { "if-none-match": etag } })

  expect(etag).toMatch(/^W\/"/)
  expect(again.statusCode).toBe(304)
  expect(again.body).toBe("")
})

// The 304 repeats every header of the 200 (a browser updates its copy's from it) but the body's own,
// the date and the render's time (each render has its own).
const exceptTheBody = (headers: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(headers).filter(([name]) => !/^(content-|date$|server-timing$)/.test(name)),
  )

test("answers 304 for a server-rendered page with every header of its 200 but the body's own", async () => {
  const ok = await app.inject("/breeds/husky/")

  const notModified = await app.inject({
    url: "/breeds/husky/",
    headers: { "if-none-match": String(ok.headers.etag) },
  })

  expect(notModified.statusCode).toBe(304)
  expect(exceptTheBody(notModified.headers)).toEqual(exceptTheBody(ok.headers))
  expect(notModified.headers["x-custom-header"]).toBe("for every path")
})

test("answers 405 with Allow to a POST to a page file", async () => {
  const res = await app.inject({ method: "POST", url: "/", payload: { a: 1 } })

  expect(res.statusCode).toBe(405)
  expect(res.headers.allow).toBe("GET, HEAD")
})

test("hands a Gatsby Function its parsed body, query, cookies and address", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo?dog=pug",
    headers: { "content-type": "application/json", cookie: "favourite=pug" },
    payload: '{"name":"Rex"}',
  })

  expect(res.statusCode).toBe(201)
  expect(res.json()).toEqual({
    method: "POST",
    query: { dog: "pug" },
    cookies: { favourite: "pug" },
    url: "/api/echo?dog=pug",
    rawUrl: "http://localhost:80/api/echo?dog=pug",
    body: { name: "Rex" },
  })
})

test("hands a Gatsby Function an empty body, {}, for a request that has none, as gatsby develop does", async () => {
  const res = await app.inject("/api/echo")

  expect(res.json().body).toEqual({})
})

test("answers 400 to malformed JSON without running the function, as gatsby develop does", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo",
    headers: { "content-type": "application/json" },
    payload: '{"name":',
  })

  expect(res.statusCode).toBe(400)
  expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
  expect(res.body).toContain("<pre>Bad Request</pre>")
})

test("answers 413 to a body over the function's own limit (100 KB by default) without running it", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo",
    headers: { "content-type": "text/plain" },
    payload: "a".repeat(100 * 1024 + 1),
  })

  expect(res.statusCode).toBe(413)
})

test("hands a Gatsby Function a gzip body decompressed", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo",
    headers: { "content-type": "text/plain", "content-encoding": "gzip" },
    payload: gzipSync("compressed as the client chose"),
  })

  expect(res.statusCode).toBe(201)
  expect(res.json().body).toBe("compressed as the client chose")
})

test("answers 415 to a body in an encoding the parsers cannot read, as gatsby develop does", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo",
    headers: { "content-type": "text/plain", "content-encoding": "compress" },
    payload: "compressed as the client chose",
  })

  expect(res.statusCode).toBe(415)
})

test("answers a Gatsby Function at its address, with no redirect to a trailing slash", async () => {
  const res = await app.inject("/api/echo")

  expect(res.statusCode).toBe(201)
})

test("answers 404 for a Gatsby Function's address with a slash added, as gatsby develop does", async () => {
  const res = await app.inject("/api/echo/")

  expect(res.statusCode).toBe(404)
})

test("shows the 500 page when a Gatsby Function fails after an await, and logs why", async () => {
  const res = await app.inject("/api/fails-later")

  expect(res.statusCode).toBe(500)
  expect(res.body).toContain("Something went wrong")
  expect(JSON.parse(logged[0])).toMatchObject({
    level: 50,
    req: { method: "GET", url: "/api/fails-later" },
    err: { message: "too late" },
    msg: "Error: too late",
  })
})

test("answers 413 to a body over 1 MB", async () => {
  const res = await app.inject({
    method: "POST",
    url: "/api/echo",
    headers: { "content-type": "text/plain" },
    payload: "a".repeat(1024 * 1024 + 1),
  })

  expect(res.statusCode).toBe(413)
})

test("answers 413 to a multipart file sent in chunks, with no length, past the limit it was given", async () => {
  const small = await createServer({ root, bodyLimit: 1000 })
  const boundary = "dogs"
  const multipart = [
    `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="dog.jpg"\r\n`,
    `Content-Type: image/jpeg\r\n\r\n${"a".repeat(5000)}\r\n--${boundary}--\r\n`,
  ].join("")
  const res = await small.inject({
    method: "POST",
    url: "/api/echo",
    headers: {
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "transfer-encoding": "chunked",
    },
    payload: Readable.from([multipart]),
  })
  await small.close()

  expect(res.statusCode).toBe(413)
})

test("answers 413 to a body over the limit it was given", async () => {
  const small = await createServer({ root, bodyLimit: 10 })
  const res = await small.inject({ method: "POST", url: "/api/echo", payload: "a".repeat(11) })
  await small.close()

  expect(res.statusCode).toBe(413)
})

// As a proxy in front would send them, or a client forging them.
const forwarded = {
  "x-forwarded-for": "203.0.113.7",
  "x-forwarded-proto": "https",
  "x-forwarded-host": "dogs.example",
}

test("believes no X-Forwarded-* header by default: a client could forge them", async () => {
  const withLog = await createServer({ root, accessLog: true, log: (line) => logged.push(line) })
  const res = await withLog.inject({ url: "/api/echo", headers: forwarded, remoteAddress: "198.51.100.1" })
  await withLog.close()

  expect(res.json().rawUrl).toBe("http://localhost:80/api/echo")
  expect(JSON.parse(logged[0]).req.remoteAddress).toBe("198.51.100.1")
})

test("takes the client's address, protocol and host from X-Forwarded-* sent by a proxy it trusts", async () => {
  const withLog = await createServer({
    root,
    accessLog: true,
    trustProxy: ["198.51.100.0/24"],
    log: (line) => logged.push(line),
  })
  const trusted = await withLog.inject({
    url: "/api/echo",
    headers: forwarded,
    remoteAddress: "198.51.100.1",
  })
  const other = await withLog.inject({ url: "/api/echo", headers: forwarded, remoteAddress: "192.0.2.9" })
  await withLog.close()

  expect(trusted.json().rawUrl).toBe("https://dogs.example/api/echo")
  expect(JSON.parse(logged[0]).req.remoteAddress).toBe("203.0.113.7")
  expect(other.json().rawUrl).toBe("http://localhost:80/api/echo")
  expect(JSON.parse(logged[1]).req.remoteAddress).toBe("192.0.2.9")
})

test("with TRUST_PROXY=1, takes the client from the one proxy in front, whatever its address", async () => {
  const { trustProxy } = readSettings({ TRUST_PROXY: "1" })
  const behindOne = await createServer({
    root,
    trustProxy,
    accessLog: true,
    log: (line) => logged.push(line),
  })
  const res = await behindOne.inject({
    url: "/api/echo",
    headers: { ...forwarded, "x-forwarded-for": "192.0.2.66, 203.0.113.7" },
    remoteAddress: "10.1.2.3",
  })
  await behindOne.close()

  // The client forged 192.0.2.66; the proxy appended the address it saw.
  expect(JSON.parse(logged[0]).req.remoteAddress).toBe("203.0.113.7")
  expect(res.json().rawUrl).toBe("https://dogs.example/api/echo")
})

test("answers 414 to a URL over 8 KB", async () => {
  const res = await app.inject(`/${"a".repeat(8 * 1024)}/`)

  expect(res.statusCode).toBe(414)
})

test("answers 414 to a page address with a segment over 100 characters, without asking the page", async () => {
  const res = await app.inject(`/breeds/${"a".repeat(101)}/`)

  expect(res.statusCode).toBe(414)
  expect(res.body).toBe("URI Too Long\n")
})

test("answers 400 to a malformed escape", async () => {
  const res = await app.inject("/breeds/%E0%A4%A/")

  expect(res.statusCode).toBe(400)
  expect(res.body).toBe("Bad Request\n")
})

test.each([
  "/../package.json",
  "/%2e%2e/package.json",
  "/app-0123abcd.js/..%2f..%2fpackage.json",
  "/.cache/node-server/routes.json",
])("answers 404 to %s, and serves nothing from outside public/", async (url) => {
  const res = await app.inject(url)

  expect(res.statusCode).toBe(404)
  expect(res.body).not.toContain("private")
})

test("answers 404 to an address with a NUL byte", async () => {
  const res = await app.inject("/index.html%00.js")

  expect(res.statusCode).toBe(404)
})

test("shows the 404 page for an unknown address", async () => {
  const res = await app.inject("/no-such-page/")

  expect(res.statusCode).toBe(404)
  expect(res.body).toContain("Page not found")
})

describe("for a site with no 404 or 500 page", () => {
  let bare: FastifyInstance
  let bareRoot: string
  beforeAll(async () => {
    bareRoot = mkdtempSync(path.join(os.tmpdir(), "no-error-pages-"))
    cpSync(root, bareRoot, { recursive: true, filter: (source) => !/(404|500)\.html$/.test(source) })
    bare = await createServer({ root: bareRoot, log: () => {} })
  })
  afterAll(async () => {
    await bare.close()
    rmSync(bareRoot, { recursive: true, force: true })
  })

  test("shows an HTML page that says Not Found, with status 404, at an unknown address", async () => {
    const res = await bare.inject("/no-such-page/")

    expect(res.statusCode).toBe(404)
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8")
    expect(res.body).toContain("<pre>Not Found</pre>")
  })

  test("answers 500 in plain text where a page's function throws", async () => {
    const res = await bare.inject("/throws/")

    expect(res.statusCode).toBe(500)
    expect(res.headers["content-type"]).toBe("text/plain; charset=utf-8")
    expect(res.body).toBe("Internal Server Error\n")
  })
})

test("shows the 500 page when a page's function throws", async () => {
  const res = await app.inject("/throws/")

  expect(res.statusCode).toBe(500)
  expect(res.headers["cache-control"]).toBe("no-store")
  expect(res.body).toContain("Something went wrong")
})

test("logs a failing page's error with its stack the first time", async () => {
  await app.inject("/throws/")

  expect(logged).toHaveLength(1)
  expect(JSON.parse(logged[0])).toMatchObject({ req: { url: "/throws/" }, msg: "Error: the engine broke" })
  expect(JSON.parse(logged[0]).err.stack).toMatch(/^Error: the engine broke\n\s+at /)
})

test("logs the same error again at most once a second, with how many it left out", async () => {
  for (let i = 0; i < 20; i++) await app.inject("/throws/")
  await new Promise((resolve) => setTimeout(resolve, 1000))
  await app.inject("/throws/")

  expect(logged).toHaveLength(2)
  expect(JSON.parse(logged[1])).toMatchObject({ msg: "Error: the engine broke", leftOut: 19 })
  expect(JSON.parse(logged[1]).err).toBeUndefined()
})

test("forgets the oldest of over 100 kinds of error, so that errors naming their request keep memory flat", async () => {
  for (let n = 0; n <= 100; n++) await app.inject(`/throws/${n}/`)
  await app.inject("/throws/0/")

  // 101 kinds, each with its stack; then the first again, forgotten, with its stack again.
  expect(logged).toHaveLength(102)
  expect(JSON.parse(logged[101]).err.stack).toMatch(/^Error: the engine broke on \/throws\/0\/\n\s+at /)
})

test("logs the API failures that pages report in the same bounded log, once a second per API and reason", async () => {
  const report = (line: string) =>
    diagnosticsChannel.channel(UPSTREAM_FAILURES).publish({ api: "dog API", reason: "timeout", line })
  report("[/ssr/] no dog: GET http://api/ did not answer in time")
  report("[/ssr/] no dog: GET http://api/ did not answer in time")

  expect(logged.map((line) => JSON.parse(line))).toEqual([
    expect.objectContaining({
      level: 50,
      api: "dog API",
      reason: "timeout",
      detail: "[/ssr/] no dog: GET http://api/ did not answer in time",
      msg: "dog API: timeout",
    }),
  ])
})

test("writes no access log by default", async () => {
  await app.inject("/")

  expect(logged).toEqual([])
})

test("writes one access log line per request as JSON, with its request id, when asked to", async () => {
  const withLog = await createServer({ root, accessLog: true, log: (line) => logged.push(line) })
  await withLog.inject("/ssr/?a=1")
  await withLog.close()

  expect(logged).toHaveLength(1)
  const line = JSON.parse(logged[0])
  expect(line).toMatchObject({
    level: 30,
    reqId: expect.stringMatching(/^req-/),
    req: { method: "GET", url: "/ssr/?a=1", remoteAddress: "127.0.0.1" },
    res: { statusCode: 500 },
    msg: "request completed",
  })
  expect(line.responseTime).toEqual(expect.any(Number))
})

test("writes one access log line per request in Combined Log Format, with LOG_FORMAT=combined", async () => {
  const withLog = await createServer({
    root,
    accessLog: true,
    logFormat: "combined",
    log: (line) => logged.push(line),
  })
  await withLog.inject({ url: "/ssr/", headers: { "user-agent": "curl/8", referer: "http://a.example/" } })
  await withLog.close()

  expect(logged).toHaveLength(1)
  expect(logged[0]).toMatch(
    /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET \/ssr\/ HTTP\/1\.1" 500 15 "http:\/\/a\.example\/" "curl\/8" \d+\.\dms$/,
  )
})

test("writes an access log line for what a Gatsby Function answered itself", async () => {
  const withLog = await createServer({ root, accessLog: true, log: (line) => logged.push(line) })
  await withLog.inject("/api/echo?dog=pug")
  await withLog.close()

  expect(logged).toHaveLength(1)
  expect(JSON.parse(logged[0])).toMatchObject({ req: { url: "/api/echo?dog=pug" }, res: { statusCode: 201 } })
})

test("names the client behind a proxy it trusts in the access log line of a file, as for any request", async () => {
  const withLog = await createServer({
    root,
    accessLog: true,
    trustProxy: ["127.0.0.1"],
    log: (line) => logged.push(line),
  })
  const port = await listen(withLog)
  const headers = { "x-forwarded-for": "203.0.113.7" }
  await (await fetch(`http://127.0.0.1:${port}/app-0123abcd.js`, { headers })).text()
  await (await fetch(`http://127.0.0.1:${port}/api/echo`, { headers })).text()
  await withLog.close()
  const requests = logged.map((line) => JSON.parse(line)).filter((line) => line.msg === "request completed")

  expect(requests.map((line) => line.req.remoteAddress)).toEqual(["203.0.113.7", "203.0.113.7"])
})

test("writes an access log line for a file answered before the framework", async () => {
  const withLog = await createServer({ root, accessLog: true, log: (line) => logged.push(line) })
  const port = await listen(withLog)
  await (await fetch(`http://127.0.0.1:${port}/app-0123abcd.js`)).text()
  await withLog.close()
  const requests = logged.map((line) => JSON.parse(line)).filter((line) => line.msg === "request completed")

  expect(requests).toHaveLength(1)
  expect(requests[0]).toMatchObject({
    reqId: expect.stringMatching(/^req-/),
    req: { method: "GET", url: "/app-0123abcd.js" },
    res: { statusCode: 200 },
  })
})

test("answers the health check with 200 while it serves", async () => {
  const res = await app.inject("/healthz")

  expect(res.statusCode).toBe(200)
  expect(res.headers["cache-control"]).toBe("no-store")
})

// Asks until the server answers `status`, for up to 5 s (under-pressure samples the load once a second).
async function untilAnswered(server: FastifyInstance, url: string, status: number) {
  for (let tries = 0; ; tries++) {
    const res = await server.inject(url)
    if (res.statusCode === status || tries === 250) return res
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test("sheds load past its memory bound: 503 at once, with Retry-After", async () => {
  const full = await createServer({ root, pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1 } })
  try {
    const res = await untilAnswered(full, "/ssr/", 503)

    expect(res.statusCode).toBe(503)
    expect(res.headers["retry-after"]).toBe("10")
    expect(res.headers["cache-control"]).toBe("no-store")
    expect(res.body).toBe("Service Unavailable\n")
  } finally {
    await full.close()
  }
})

test("answers the health check with 503 while it sheds load", async () => {
  const full = await createServer({ root, pressure: { maxEventLoopDelayMs: 0, maxHeapUsedBytes: 1 } })
  try {
    expect((await untilAnswered(full, "/healthz", 503)).statusCode).toBe(503)
  } finally {
    await full.close()
  }
})

// Blocks the event loop for a second and a half, as a flood of requests or a machine too busy to run
// the server does, then waits until under-pressure has measured it (it samples once a second).
async function lag(server: FastifyInstance, boundMs: number) {
  const end = Date.now() + 1500
  while (Date.now() < end);
  while (server.memoryUsage().eventLoopDelay <= boundMs)
    await new Promise((resolve) => setTimeout(resolve, 5))
}

test("sheds load while its event loop lags with a request waiting, and serves again once it catches up", async () => {
  const lagging = await createServer({ root, pressure: { maxEventLoopDelayMs: 100, maxHeapUsedBytes: 0 } })
  const port = await listen(lagging)
  try {
    // A request the server holds until the test lets it go.
    const release = globalThis as { releaseHeld?: () => void }
    delete release.releaseHeld
    const held = fetch(`http://127.0.0.1:${port}/held/`)
    for (let tries = 0; !release.releaseHeld && tries < 1000; tries++)
      await new Promise((resolve) => setTimeout(resolve, 5))
    await lag(lagging, 100)

    const shed = await fetch(`http://127.0.0.1:${port}/healthz`)
    release.releaseHeld!()

    expect(shed.status).toBe(503)
    expect(shed.headers.get("retry-after")).toBe("10")
    expect((await held).status).toBe(200)
    expect((await untilAnswered(lagging, "/healthz", 200)).statusCode).toBe(200)
  } finally {
    await lagging.close()
  }
})

test("serves a lone request after its event loop lagged (its own start, a busy machine): nothing waits behind it", async () => {
  const lagging = await createServer({ root, pressure: { maxEventLoopDelayMs: 100, maxHeapUsedBytes: 0 } })
  const port = await listen(lagging)
  try {
    await lag(lagging, 100)

    const res = await fetch(`http://127.0.0.1:${port}/healthz`)

    expect(lagging.memoryUsage().eventLoopDelay).toBeGreaterThan(100)
    expect(res.status).toBe(200)
  } finally {
    await lagging.close()
  }
})

test("sheds a lone request after a lag all the same when its heap is past its bound", async () => {
  const lagging = await createServer({ root, pressure: { maxEventLoopDelayMs: 100, maxHeapUsedBytes: 1 } })
  const port = await listen(lagging)
  try {
    await lag(lagging, 100)

    const res = await fetch(`http://127.0.0.1:${port}/healthz`)

    expect(res.status).toBe(503)
  } finally {
    await lagging.close()
  }
})

// Real sockets from here: what a slow or idle client does to the server.
async function listen(server: FastifyInstance): Promise<number> {
  await server.listen({ port: 0, host: "127.0.0.1" })
  return (server.server.address() as { port: number }).port
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket)).on("error", reject)
  })
}

// Milliseconds from now until the server closes the socket (or sends its own 408 and closes); if it
// has not within 4 s, Infinity, and the socket is dropped so that the test can end.
function closedAfter(socket: Socket): Promise<number> {
  const started = Date.now()
  return new Promise((resolve) => {
    const giveUp = setTimeout(() => {
      resolve(Infinity)
      socket.destroy()
    }, 4000)
    socket
      .on("close", () => {
        clearTimeout(giveUp)
        resolve(Date.now() - started)
      })
      .resume()
  })
}

// What the server sent on the socket until it closed it.
function received(socket: Socket): Promise<string> {
  let text = ""
  return new Promise((resolve) =>
    socket.on("data", (chunk) => (text += chunk)).on("close", () => resolve(text)),
  )
}

test("finishes a request in flight when it shuts down, and takes no new connection meanwhile", async () => {
  const port = await listen(app)
  const socket = await open(port)
  const answer = received(socket)
  socket.write("GET /slow/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
  await new Promise((resolve) => setTimeout(resolve, 50))

  const closing = app.close()
  const refused = open(port).then(
    () => "connected",
    (error: NodeJS.ErrnoException) => error.code,
  )
  await closing

  expect(await answer).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*<h1>\/slow\/<\/h1>$/)
  expect(await refused).toBe("ECONNREFUSED")
})

test("answers 503 with Retry-After at once past the requests it may have in flight, and files still", async () => {
  const bounded = await createServer({ root, maxInFlight: 1 })
  const port = await listen(bounded)
  try {
    const first = fetch(`http://127.0.0.1:${port}/slow/`)
    await new Promise((resolve) => setTimeout(resolve, 50))

    const second = await fetch(`http://127.0.0.1:${port}/ssr/`)
    const file = await fetch(`http://127.0.0.1:${port}/app-0123abcd.js`)

    expect(second.status).toBe(503)
    expect(second.headers.get("retry-after")).toBe("10")
    expect(file.status).toBe(200)
    expect((await first).status).toBe(200)
  } finally {
    await bounded.close()
  }
})

test("answers the health check with 503 once it shuts down, on a connection that it still has", async () => {
  const port = await listen(app)
  const socket = await open(port)
  const answer = received(socket)
  socket.write("GET /slow/ HTTP/1.1\r\nHost: x\r\n\r\n")
  await new Promise((resolve) => setTimeout(resolve, 50))

  const closing = app.close()
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
  await closing

  expect(await answer).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*HTTP\/1\.1 503 Service Unavailable/)
})

const short = { headersMs: 500, requestMs: 1000, idleMs: 300, socketMs: 5000 }

// Sends `start`, then `drip` every 100 ms: how long until the server closes the connection.
async function dripUntilClosed(start: string, drip: string): Promise<number> {
  const server = await createServer({ root, timeouts: short })
  const socket = await open(await listen(server))
  const closed = closedAfter(socket)
  socket.write(start)
  const timer = setInterval(() => socket.writable && socket.write(drip), 100)
  try {
    return await closed
  } finally {
    clearInterval(timer)
    await server.close()
  }
}

test("closes a connection whose headers arrive too slowly", async () => {
  const ms = await dripUntilClosed("GET / HTTP/1.1\r\nHost: x\r\n", "X-Slow: 1\r\n")

  expect(ms).toBeLessThan(short.headersMs + 1500)
})

test("closes a connection whose body arrives too slowly", async () => {
  const ms = await dripUntilClosed(
    "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n",
    "a",
  )

  expect(ms).toBeLessThan(short.requestMs + 1500)
})

test("closes an idle keep-alive connection", async () => {
  const server = await createServer({ root, timeouts: short })
  const socket = await open(await listen(server))
  const closed = closedAfter(socket)
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")

  const ms = await closed
  await server.close()

  expect(ms).toBeLessThan(short.idleMs + 1500)
})

// A site of a home page and a server-rendered page, whose engine is `engine` (its source); removed with rmSync.
function siteWithEngine(engine: string): string {
  const site = mkdtempSync(path.join(os.tmpdir(), "node-adapter-engine-"))
  for (const [file, text] of Object.entries({
    "public/index.html": "<h1>Home</h1>",
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": engine,
    ".cache/node-server/routes.json": JSON.stringify({
      trailingSlash: "always",
      routes: [
        { type: "static", path: "/", filePath: "public/index.html", headers: [] },
        { type: "function", path: "/ssr/", functionId: "ssr-engine" },
      ],
      functions: [{ functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" }],
      headerRoutes: [],
    }),
  })) {
    mkdirSync(path.dirname(path.join(site, file)), { recursive: true })
    writeFileSync(path.join(site, file), text)
  }
  return site
}

test("loads Gatsby's engine at the first page it renders, not at start", async () => {
  const loaded = globalThis as { engineLoadedAt?: number }
  delete loaded.engineLoadedAt
  const site = siteWithEngine(`
    globalThis.engineLoadedAt = Date.now()
    exports.default = async (req, res) => res.send("<h1>rendered</h1>")`)
  const lazy = await createServer({ root: site })
  try {
    expect((await lazy.inject("/")).statusCode).toBe(200)
    expect(loaded.engineLoadedAt).toBeUndefined()

    const rendered = await lazy.inject("/ssr/")

    expect(rendered.body).toBe("<h1>rendered</h1>")
    expect(loaded.engineLoadedAt).toEqual(expect.any(Number))
  } finally {
    await lazy.close()
    rmSync(site, { recursive: true, force: true })
  }
})

test("serves the pages asked for while Gatsby's engine loaded, rather than shedding them for the lag it caused", async () => {
  // An engine that takes a second and a half to load, as Gatsby's does on a busy machine.
  const site = siteWithEngine(`
    const end = Date.now() + 1500
    while (Date.now() < end);
    exports.default = async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 300))
      res.send("<h1>rendered</h1>")
    }`)
  // A bound that the load's lag passes wherever it falls in under-pressure's second (the measure is
  // the mean delay since its last sample, in which a lag is diluted by the rest of the second).
  const server = await createServer({ root: site, pressure: { maxEventLoopDelayMs: 1, maxHeapUsedBytes: 0 } })
  try {
    const port = await listen(server)
    const first = fetch(`http://127.0.0.1:${port}/ssr/`)
    // The others come while the first one loads the engine (this test's timer fires once it has).
    await new Promise((resolve) => setTimeout(resolve, 500))
    const others = Array.from({ length: 3 }, () => fetch(`http://127.0.0.1:${port}/ssr/`))

    const bodies = await Promise.all([first, ...others].map(async (res) => (await res).text()))

    expect(bodies).toEqual(Array(4).fill("<h1>rendered</h1>"))
  } finally {
    await server.close()
    rmSync(site, { recursive: true, force: true })
  }
})

test("gives requests in flight 10 s after SIGTERM by default, and takes bodies up to 1 MB", () => {
  const { shutdownDeadlineMs, bodyLimit } = readSettings({})

  expect(shutdownDeadlineMs).toBe(10_000)
  expect(bodyLimit).toBe(1024 * 1024)
})

test("bounds each worker's heap by its share of the memory, less its caches, not by V8's limit for the machine", () => {
  const share = os.totalmem() / 16
  const caches = 2 * 64 * 1024 * 1024

  const { maxHeapUsedBytes } = readSettings({ WEB_CONCURRENCY: "16" })

  expect(maxHeapUsedBytes).toBe(
    Math.floor(0.9 * Math.min(v8.getHeapStatistics().heap_size_limit, share - caches)),
  )
  expect(maxHeapUsedBytes).toBeLessThan(readSettings({ WEB_CONCURRENCY: "1" }).maxHeapUsedBytes)
})

describe("with the shared cache of rendered pages", () => {
  let cached: FastifyInstance
  beforeEach(async () => {
    cached = await createServer({ root, cacheBytes: 1024 * 1024, log: (line) => logged.push(line) })
  })
  afterEach(() => cached.close())

  const body = (url: string) => cached.inject(url).then((res) => res.body)

  test("answers a public page again from the cache, with its age, without rendering it again", async () => {
    await cached.inject("/kept/again/")

    const res = await cached.inject("/kept/again/")

    expect(res.body).toBe("<h1>render 1</h1>")
    expect(res.headers.age).toMatch(/^\d+$/)
    expect(res.headers["x-frame-options"]).toBe("DENY")
  })

  test("answers a page fresh in the cache over a connection as its route does, with no render", async () => {
    await cached.listen({ port: 0, host: "127.0.0.1" })
    const { port } = cached.server.address() as { port: number }
    await (await fetch(`http://127.0.0.1:${port}/kept/lane/`)).text()

    const res = await fetch(`http://127.0.0.1:${port}/kept/lane/`)

    expect(await res.text()).toBe("<h1>render 1</h1>")
    expect(res.headers.get("age")).toMatch(/^\d+$/)
    expect(res.headers.get("x-frame-options")).toBe("DENY")
    expect(res.headers.get("etag")).toMatch(/^W\//)
  })

  test("says in Server-Timing how long the engine took, and that a kept page came from the cache", async () => {
    const rendered = await cached.inject("/kept/timing/")
    const kept = await cached.inject("/kept/timing/")

    expect(rendered.headers["server-timing"]).toMatch(/^engine;dur=\d+\.\d$/)
    expect(kept.headers["server-timing"]).toBe('cache;desc="hit"')
  })

  test("renders a page once for first requests that come together, and sends each the page kept", async () => {
    const pages = await Promise.all([1, 2, 3].map(() => body("/kept/together/")))

    expect(pages).toEqual(["<h1>render 1</h1>", "<h1>render 1</h1>", "<h1>render 1</h1>"])
  })

  test("after a failed render, renders once more for the requests that waited, and sends them that page", async () => {
    const pages = await Promise.all(Array.from({ length: 6 }, () => body("/kept/fails-once/")))

    expect(pages).toEqual(["<h1>No dog 1</h1>", ...Array(5).fill("<h1>render 2</h1>")])
  })

  test("renders a page that keeps failing twice for the requests that come together, not once each", async () => {
    const pages = await Promise.all(Array.from({ length: 6 }, () => body("/kept/always-fails/")))

    expect(pages).toEqual(["<h1>No dog 1</h1>", ...Array(5).fill("<h1>No dog 2</h1>")])
  })

  test("keeps a kept page's own Vary beside Accept-Encoding", async () => {
    await cached.inject("/kept/varied/")

    const res = await cached.inject("/kept/varied/")

    expect(res.headers["server-timing"]).toBe('cache;desc="hit"')
    expect(res.headers.vary).toBe("Accept-Language, accept-encoding")
  })

  test("sends a kept page's gzip form, compressed once when it was kept", async () => {
    await cached.inject("/kept/long/")

    const res = await cached.inject({ url: "/kept/long/", headers: { "accept-encoding": "gzip" } })

    expect(res.headers["content-encoding"]).toBe("gzip")
    expect(res.headers.vary).toBe("accept-encoding")
    expect(gunzipSync(res.rawPayload).toString()).toMatch(/^<h1>render 1<\/h1>(<p>Dogs.<\/p>){200}$/)
  })

  test("sends the stale page to every request while one render replaces it", async () => {
    await cached.inject("/kept/slow/")
    // Past its s-maxage of 1 s, within stale-while-revalidate.
    await new Promise((resolve) => setTimeout(resolve, 1100))

    const stale = await Promise.all([1, 2, 3].map(() => cached.inject("/kept/slow/")))
    // The renders that started (each waits 200 ms on a timer set before this one) are over.
    await new Promise((resolve) => setTimeout(resolve, 400))
    const next = await body("/kept/slow/")

    expect(stale.map((res) => res.body)).toEqual(Array(3).fill("<h1>render 1</h1>"))
    for (const res of stale) expect(Number(res.headers.age)).toBeGreaterThanOrEqual(1)
    // One render replaced it, not one per request.
    expect(next).toBe("<h1>render 2</h1>")
  })

  test("keeps sending the stale page when the render that would replace it fails", async () => {
    await cached.inject("/kept/failing/")
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await cached.inject("/kept/failing/")
    // The stand-in fails without a timer: its render is over before this one fires.
    await new Promise((resolve) => setTimeout(resolve, 20))

    const res = await cached.inject("/kept/failing/")

    expect(res.statusCode).toBe(200)
    expect(res.body).toBe("<h1>render 1</h1>")
  })

  test("renders a private page at every request", async () => {
    await cached.inject("/kept/private/")

    const res = await cached.inject("/kept/private/")

    expect(res.body).toBe("<h1>render 2</h1>")
    expect(res.headers.age).toBeUndefined()
  })

  test("keeps a DSG page, which says nothing of caching, for the life of the build", async () => {
    await cached.inject("/dsg/")

    const res = await cached.inject("/dsg/")

    expect(res.body).toBe("<h1>render 1</h1>")
    expect(res.headers.age).toMatch(/^\d+$/)
  })

  test("answers a HEAD from what a GET kept in the cache", async () => {
    await cached.inject("/kept/head/")

    const res = await cached.inject({ method: "HEAD", url: "/kept/head/" })

    expect(res.headers.age).toMatch(/^\d+$/)
    expect(res.headers["content-length"]).toBe(String("<h1>render 1</h1>".length))
  })

  test("passes a POST to the page, which answers it, not to the cache", async () => {
    await cached.inject("/kept/post/")

    const res = await cached.inject({ method: "POST", url: "/kept/post/" })

    expect(res.body).toBe("<h1>render 2</h1>")
    expect(res.headers.age).toBeUndefined()
  })

  test("answers 304 from the cache with every header of the cached 200 but the body's own", async () => {
    await cached.inject("/kept/headers/")
    const ok = await cached.inject({ url: "/kept/headers/", headers: { "accept-encoding": "gzip" } })

    const notModified = await cached.inject({
      url: "/kept/headers/",
      headers: { "accept-encoding": "gzip", "if-none-match": String(ok.headers.etag) },
    })

    expect(notModified.statusCode).toBe(304)
    expect(ok.headers["server-timing"]).toBe('cache;desc="hit"')
    expect(exceptTheBody(notModified.headers)).toEqual(exceptTheBody(ok.headers))
    expect(notModified.headers["x-frame-options"]).toBe("DENY")
  })

  test("answers 304 from the cache to a client that has the page", async () => {
    const first = await cached.inject("/kept/etag/")

    const res = await cached.inject({ url: "/kept/etag/", headers: { "if-none-match": first.headers.etag } })

    expect(res.statusCode).toBe(304)
    expect(res.headers.age).toMatch(/^\d+$/)
    expect(await body("/kept/etag/")).toBe("<h1>render 1</h1>")
  })
})

test("renders every request when the cache is off (RESPONSE_CACHE_BYTES=0)", async () => {
  await app.inject("/kept/uncached/")

  expect((await app.inject("/kept/uncached/")).body).toBe("<h1>render 2</h1>")
})

test("gives slow and idle clients seconds by default, not minutes", () => {
  for (const ms of Object.values(TIMEOUTS)) expect(ms).toBeLessThanOrEqual(30_000)
})

test("refuses to start when gatsby develop has deleted the build's SSR engine, and says what to run", async () => {
  const developed = mkdtempSync(path.join(os.tmpdir(), "developed-"))
  mkdirSync(path.join(developed, ".cache/node-server"), { recursive: true })
  writeFileSync(path.join(developed, ".cache/node-server/routes.json"), JSON.stringify(routes))

  try {
    await expect(createServer({ root: developed })).rejects.toThrow(
      /The build has no .*page-ssr\/lambda\.js \(gatsby develop deletes it\)\. Run `gatsby build` again\./,
    )
  } finally {
    rmSync(developed, { recursive: true })
  }
})

test("refuses to start when the build's files are gone, and says which command makes them", async () => {
  // The build as it was, but for public/.
  const noFiles = mkdtempSync(path.join(os.tmpdir(), "no-public-"))
  cpSync(root, noFiles, { recursive: true, filter: (source) => source !== path.join(root, "public") })

  try {
    await expect(createServer({ root: noFiles })).rejects.toThrow(
      /The build's files are missing: there is no .*public\/page-data\/app-data\.json\. Run `gatsby build` again\./,
    )
  } finally {
    rmSync(noFiles, { recursive: true })
  }
})

test("refuses to start without a build, and says which command makes one", async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "no-build-"))

  try {
    await expect(createServer({ root: empty })).rejects.toThrow(
      /Run `gatsby build` in the site.s folder first/,
    )
  } finally {
    rmSync(empty, { recursive: true })
  }
})

test.each(["{}", "null", '{"routes": []}'])(
  "refuses to start when the build's routes file is %s, and says which command makes them",
  async (text) => {
    const broken = mkdtempSync(path.join(os.tmpdir(), "no-routes-"))
    mkdirSync(path.join(broken, ".cache/node-server"), { recursive: true })
    writeFileSync(path.join(broken, ".cache/node-server/routes.json"), text)

    try {
      await expect(createServer({ root: broken })).rejects.toThrow(
        /lists no routes\. Run `gatsby build` again/,
      )
    } finally {
      rmSync(broken, { recursive: true })
    }
  },
)

describe("with Prometheus metrics", () => {
  let metrics: Metrics
  let counted: FastifyInstance
  beforeEach(async () => {
    metrics = createMetrics()
    counted = await createServer({ root, cacheBytes: 1024 * 1024, metrics, maxInFlight: 1 })
  })
  afterEach(async () => {
    await counted.close()
    metrics.stop()
  })

  const scrape = () => metrics.registry.metrics()

  test("counts requests by kind of answer and status, files before the framework included", async () => {
    const port = await listen(counted)
    await (await fetch(`http://127.0.0.1:${port}/app-0123abcd.js`)).text()
    await counted.inject("/ssr/")
    await counted.inject("/nowhere/")
    await counted.inject("/old-dogs/")

    const text = await scrape()
    expect(text).toContain('http_requests_total{kind="file",status="200"} 1')
    expect(text).toContain('http_requests_total{kind="page",status="500"} 1')
    expect(text).toContain('http_requests_total{kind="not-found",status="404"} 1')
    expect(text).toContain('http_requests_total{kind="redirect",status="301"} 1')
    expect(text).toMatch(/http_request_duration_seconds_count\{kind="file"\} 1/)
  })

  test("counts the shared cache's hits and misses, and a page from the cache as cached", async () => {
    await counted.inject("/kept/counted/")
    await counted.inject("/kept/counted/")

    const text = await scrape()
    expect(text).toContain('response_cache_lookups_total{result="miss",tier="memory"} 1')
    expect(text).toContain('response_cache_lookups_total{result="hit",tier="memory"} 1')
    expect(text).toContain('http_requests_total{kind="cached",status="200"} 1')
  })

  test("counts requests shed past the bound on requests in flight", async () => {
    const port = await listen(counted)
    const first = fetch(`http://127.0.0.1:${port}/slow/`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    await (await fetch(`http://127.0.0.1:${port}/ssr/`)).text()
    await (await first).text()

    const text = await scrape()
    expect(text).toContain('http_requests_shed_total{reason="in-flight"} 1')
    expect(text).toContain('http_requests_total{kind="shed",status="503"} 1')
  })

  test("counts the upstream failures that pages report, by API and reason", async () => {
    diagnosticsChannel.channel(UPSTREAM_FAILURES).publish({ api: "dog API", reason: "timeout" })

    expect(await scrape()).toContain('upstream_failures_total{api="dog API",reason="timeout"} 1')
  })

  test("serves the metrics at /metrics on a server of their own, and nothing else there", async () => {
    const server = metricsServer(() => metrics.registry.metrics(), metrics.registry.contentType)
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const { port } = server.address() as { port: number }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`)
      const other = await fetch(`http://127.0.0.1:${port}/`)

      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/)
      expect(await res.text()).toContain("# TYPE http_requests_total counter")
      expect(other.status).toBe(404)
    } finally {
      server.close()
    }
  })
})
