import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { request, type IncomingHttpHeaders } from "node:http"
import os from "node:os"
import path from "node:path"
import { brotliCompressSync, gunzipSync, gzipSync } from "node:zlib"
import type { FastifyInstance } from "fastify"
import { createServer } from "../src/server"

// Files of public/, asked over a real connection: most are answered before the framework (the fast
// lane), which app.inject never reaches, and must answer as the routes do.

const revalidate = [
  { key: "cache-control", value: "public, max-age=0, must-revalidate" },
  { key: "x-frame-options", value: "DENY" },
]
const immutable = [{ key: "cache-control", value: "public, max-age=31536000, immutable" }]
const home = `<!doctype html><title>Home</title>${"<p>Dogs.</p>".repeat(100)}`
const script = `console.log(${JSON.stringify("x".repeat(2000))})`

let root: string
let server: FastifyInstance
let base: string

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-files-"))
  const write = (file: string, body: string | Buffer) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), body)
  }
  write("public/index.html", home)
  write("public/index.html.br", brotliCompressSync(home))
  write("public/index.html.gz", gzipSync(home))
  write("public/about/index.html", "<h1>About</h1>")
  write("public/app-0123abcd.js", script)
  write("public/page-data/app-data.json", '{"webpackCompilationHash":"0123abcd"}')
  write(
    ".cache/node-server/routes.json",
    JSON.stringify({
      trailingSlash: "always",
      routes: [
        { type: "static", path: "/", filePath: "public/index.html", headers: revalidate },
        { type: "static", path: "/about/", filePath: "public/about/index.html", headers: revalidate },
        { type: "static", path: "/app-0123abcd.js", filePath: "public/app-0123abcd.js", headers: immutable },
        {
          type: "static",
          path: "/page-data/app-data.json",
          filePath: "public/page-data/app-data.json",
          headers: revalidate,
        },
      ],
      functions: [],
      headerRoutes: [{ path: "/*", headers: revalidate }],
    }),
  )
  // A time in the past, so that If-Modified-Since can name a later one.
  utimesSync(path.join(root, "public/app-0123abcd.js"), new Date("2026-01-01"), new Date("2026-01-01"))
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<void> {
  server = await createServer({ root, ...options })
  await server.listen({ port: 0, host: "127.0.0.1" })
  base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`
}
afterEach(() => server.close())

type Answer = { status: number; headers: IncomingHttpHeaders; body: Buffer }

function get(url: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A connection of its own, closed after the answer, so that the server closes at once after a test.
    request(`${base}${url}`, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      )
    })
      .on("error", reject)
      .end()
  })
}

const withoutDate = ({ date: _date, ...headers }: Record<string, unknown>) => headers

test("answers a file over a connection just as its route does", async () => {
  await start()
  for (const [url, headers] of [
    ["/", {}],
    ["/", { "accept-encoding": "gzip" }],
    ["/app-0123abcd.js", {}],
    ["/about/", {}],
    ["/page-data/app-data.json", { "accept-encoding": "br" }],
  ] as const) {
    const fast = await get(url, headers)
    const routed = await server.inject({ url, headers })

    expect({ url, status: fast.status, headers: withoutDate(fast.headers), body: fast.body }).toEqual({
      url,
      status: routed.statusCode,
      headers: withoutDate({ ...routed.headers, connection: "close" }),
      body: routed.rawPayload,
    })
  }
})

test("sends a file with its type, length, validators and the headers Gatsby gave it", async () => {
  await start()
  const res = await get("/app-0123abcd.js")

  expect(res.status).toBe(200)
  expect(res.headers).toMatchObject({
    "content-type": "application/javascript; charset=utf-8",
    "content-length": String(script.length),
    "cache-control": "public, max-age=31536000, immutable",
    "x-frame-options": "DENY",
    "last-modified": "Thu, 01 Jan 2026 00:00:00 GMT",
    "accept-ranges": "bytes",
  })
  expect(res.headers.etag).toMatch(/^W\/"[0-9a-f]+-[0-9a-f.]+"$/)
  expect(res.body.toString()).toBe(script)
})

test("sends the gzip form that the build wrote to a client that accepts gzip alone", async () => {
  await start()
  const res = await get("/", { "accept-encoding": "gzip, deflate" })

  expect(res.headers["content-encoding"]).toBe("gzip")
  expect(res.headers.vary).toBe("accept-encoding")
  expect(gunzipSync(res.body).toString()).toBe(home)
})

test("sends a file as it is to a client that accepts no form the build wrote", async () => {
  await start()
  const res = await get("/", { "accept-encoding": "zstd, deflate" })

  expect(res.headers["content-encoding"]).toBeUndefined()
  expect(res.body.toString()).toBe(home)
})

test("answers 304, with no body, to a client whose copy has the file's ETag", async () => {
  await start()
  const { headers } = await get("/app-0123abcd.js")
  const res = await get("/app-0123abcd.js", { "if-none-match": String(headers.etag) })

  expect(res.status).toBe(304)
  expect(res.headers.etag).toBe(headers.etag)
  expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
  expect(res.body.length).toBe(0)
})

// A browser or CDN updates the copy it keeps from a 304's headers: the 304 repeats every one of them
// but those of the body it does not have (and the date, which is its own).
const exceptTheBody = (headers: IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !/^(content-|date$)/.test(name)))

test("answers 304 with every header of its 200 but the body's own, Gatsby's headers included", async () => {
  await start()
  for (const [url, accepted] of [
    ["/", "gzip"],
    ["/about/", ""],
    ["/app-0123abcd.js", ""],
    ["/page-data/app-data.json", "br"],
  ]) {
    const ok = await get(url, { "accept-encoding": accepted })
    const notModified = await get(url, {
      "accept-encoding": accepted,
      "if-none-match": String(ok.headers.etag),
    })

    expect({ url, status: notModified.status, headers: exceptTheBody(notModified.headers) }).toEqual({
      url,
      status: 304,
      headers: exceptTheBody(ok.headers),
    })
    expect(notModified.headers["x-frame-options"]).toBe("DENY")
  }
})

test("answers 304 to a client whose copy is as new as the file", async () => {
  await start()
  const res = await get("/app-0123abcd.js", { "if-modified-since": "Fri, 02 Jan 2026 00:00:00 GMT" })

  expect(res.status).toBe(304)
})

test("sends the whole file to a client whose copy is older, or has another ETag", async () => {
  await start()
  const older = await get("/app-0123abcd.js", { "if-modified-since": "Wed, 31 Dec 2025 00:00:00 GMT" })
  const other = await get("/app-0123abcd.js", { "if-none-match": 'W/"other"' })

  expect([older.status, other.status]).toEqual([200, 200])
  expect(older.body.toString()).toBe(script)
})

test("answers a range with 206 and those bytes", async () => {
  await start()
  const res = await get("/app-0123abcd.js", { range: "bytes=0-11" })

  expect(res.status).toBe(206)
  expect(res.headers["content-range"]).toBe(`bytes 0-11/${script.length}`)
  expect(res.body.toString()).toBe("console.log(")
})

test("answers a range past the file's end with 416 and the file's length", async () => {
  await start()
  const res = await get("/app-0123abcd.js", { range: `bytes=${script.length + 10}-` })

  expect(res.status).toBe(416)
  expect(res.headers["content-range"]).toBe(`bytes */${script.length}`)
})

test("sends the whole file for a range whose If-Range names another version", async () => {
  await start()
  const res = await get("/app-0123abcd.js", { range: "bytes=0-11", "if-range": 'W/"another"' })

  expect(res.status).toBe(200)
  expect(res.body.toString()).toBe(script)
})

test("answers HEAD with a file's headers and no body", async () => {
  await start()
  const res = await get("/", {}, "HEAD")

  expect(res.status).toBe(200)
  expect(res.headers["content-length"]).toBe(String(home.length))
  expect(res.body.length).toBe(0)
})

test("answers a file whatever the query string", async () => {
  await start()
  const res = await get("/page-data/app-data.json?v=2")

  expect(res.body.toString()).toBe('{"webpackCompilationHash":"0123abcd"}')
})

test("redirects a page's address without its trailing slash, as the route does", async () => {
  await start()
  const res = await get("/about?x=1")

  expect(res.status).toBe(301)
  expect(res.headers.location).toBe("/about/?x=1")
})

test("keeps a small file in memory once asked for: a change on disk shows after a restart", async () => {
  await start()
  await get("/about/")
  writeFileSync(path.join(root, "public/about/index.html"), "<h1>Later</h1>")
  try {
    const res = await get("/about/")

    expect(res.body.toString()).toBe("<h1>About</h1>")
  } finally {
    writeFileSync(path.join(root, "public/about/index.html"), "<h1>About</h1>")
  }
})

test("streams a file of more than a sixteenth of the memory bound from disk at each request", async () => {
  await start({ fileMemoryBytes: 16 * 1024 })
  await get("/app-0123abcd.js")
  const later = script.replace("console", "CONSOLE")
  writeFileSync(path.join(root, "public/app-0123abcd.js"), later)
  try {
    const res = await get("/app-0123abcd.js")

    expect(res.body.toString()).toBe(later)
  } finally {
    writeFileSync(path.join(root, "public/app-0123abcd.js"), script)
    utimesSync(path.join(root, "public/app-0123abcd.js"), new Date("2026-01-01"), new Date("2026-01-01"))
  }
})
