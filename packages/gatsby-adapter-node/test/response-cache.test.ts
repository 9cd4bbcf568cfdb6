import { encode } from "../src/shared-cache"
import { createResponseCache } from "../src/response-cache"

// The rules of the Node server's shared cache of rendered pages, one by one: what it keeps, for how
// long, and what it never keeps. The server's use of it is in server.test.ts.

type Headers = Record<string, string | string[]>

const get = (url = "/breeds/", headers: Record<string, string> = {}) => ({
  method: "GET",
  url,
  headers: { host: "localhost", ...headers },
})
const page = (headers: Headers, status = 200, body = "<h1>Breeds</h1>") => ({
  status,
  headers: { "content-type": "text/html; charset=utf-8", ...headers },
  body: Buffer.from(body),
})
const DAY = "public, max-age=3600, s-maxage=86400, stale-while-revalidate=604800"

beforeEach(() => jest.useFakeTimers({ now: new Date("2026-11-29T12:00:00Z") }))
afterEach(() => jest.useRealTimers())

const later = (seconds: number) => jest.advanceTimersByTime(seconds * 1000)

const newCache = (maxBytes = 1_000_000) => createResponseCache({ maxBytes, secret: "the build's secret" })

// A cache that has kept /breeds/, which said this Cache-Control.
function keeping(cacheControl: string) {
  const cache = newCache()
  cache.store("/breeds/", get(), page({ "cache-control": cacheControl }), false)
  return cache
}

test("answers a public page again from memory, with its headers and its age", () => {
  const cache = keeping(DAY)
  later(30)

  const hit = cache.lookup("/breeds/", get())

  expect(hit?.rendered.body.toString()).toBe("<h1>Breeds</h1>")
  expect(hit?.headers).toMatchObject({ "cache-control": DAY, age: "30" })
  expect(hit?.stale).toBe(false)
})

test("keeps a page for its s-maxage, not its shorter max-age, as a shared cache", () => {
  const cache = keeping("public, max-age=10, s-maxage=60")
  later(59)

  expect(cache.lookup("/breeds/", get())?.stale).toBe(false)
})

test("keeps a page for its max-age when it gives no s-maxage", () => {
  const cache = keeping("max-age=60")
  later(59)
  expect(cache.lookup("/breeds/", get())).toBeDefined()
  later(2)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test("answers a stale page within stale-while-revalidate, and says it is stale", () => {
  const cache = keeping("public, s-maxage=60, stale-while-revalidate=600")
  later(61)

  const hit = cache.lookup("/breeds/", get())

  expect(hit?.stale).toBe(true)
  expect(hit?.headers.age).toBe("61")
})

test("answers nothing once stale-while-revalidate has run out", () => {
  const cache = keeping("public, s-maxage=60, stale-while-revalidate=600")
  later(661)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test.each([
  ["is private", { "cache-control": "private, max-age=600" }],
  ["says no-store", { "cache-control": "public, s-maxage=600, no-store" }],
  [
    "sets a cookie, even a public one",
    { "cache-control": "public, s-maxage=600", "set-cookie": "favourite-breed=pug" },
  ],
  ["varies by anything (Vary: *)", { "cache-control": "public, s-maxage=600", vary: "*" }],
  ["gives no freshness", {}],
  ["says no-cache", { "cache-control": "public, no-cache" }],
])("never keeps a page that %s", (_what, headers: Headers) => {
  const cache = newCache()

  expect(cache.store("/breeds/", get(), page(headers), false)).toBe("not-kept")
  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test.each([301, 404, 500])("never keeps an answer with status %i", (status) => {
  const cache = newCache()

  expect(cache.store("/breeds/", get(), page({ "cache-control": DAY }, status), false)).toBe("not-kept")
})

test.each(["HEAD", "POST"])("never keeps the answer to a %s", (method) => {
  const cache = newCache()

  expect(cache.store("/breeds/", { ...get(), method }, page({ "cache-control": DAY }), false)).toBe(
    "not-kept",
  )
})

test.each([
  ["cookie", "who=alice"],
  ["authorization", "Bearer alice's-token"],
])("never keeps a public page rendered for a request with %s, and keeps the page it had", (name, value) => {
  const cache = keeping(DAY)
  const forAlice = page({ "cache-control": DAY }, 200, "<h1>Hello, Alice</h1>")

  expect(cache.store("/breeds/", get("/breeds/", { [name]: value }), forAlice, false)).toBe("personal")
  expect(cache.lookup("/breeds/", get())?.rendered.body.toString()).toBe("<h1>Breeds</h1>")
})

test("keeps a page that varies by Cookie only for requests with the same cookie", () => {
  const cache = newCache()
  const alice = get("/breeds/", { cookie: "who=alice" })
  cache.store("/breeds/", alice, page({ "cache-control": DAY, vary: "Cookie" }, 200, "Hello, Alice"), false)

  expect(cache.lookup("/breeds/", alice)?.rendered.body.toString()).toBe("Hello, Alice")
  expect(cache.lookup("/breeds/", get("/breeds/", { cookie: "who=bob" }))).toBeUndefined()
  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test("keeps a page that varies by Authorization, with s-maxage, only for the same credentials", () => {
  const cache = newCache()
  const signedIn = get("/breeds/", { authorization: "Bearer dog" })
  const varied = page({ "cache-control": "s-maxage=600", vary: "Authorization" })

  expect(cache.store("/breeds/", signedIn, varied, false)).toBe("kept")
  expect(cache.lookup("/breeds/", signedIn)).toBeDefined()
  expect(cache.lookup("/breeds/", get("/breeds/", { authorization: "Bearer cat" }))).toBeUndefined()
})

test("never keeps the answer to a request with credentials that it varies by, unless it says public (or s-maxage)", () => {
  const cache = newCache()
  const signedIn = get("/breeds/", { authorization: "Bearer dog" })

  expect(
    cache.store("/breeds/", signedIn, page({ "cache-control": "max-age=600", vary: "Authorization" }), false),
  ).toBe("not-kept")
})

test("keeps, of a request, only the headers its answer varies by, and credentials only as a digest", () => {
  const cache = newCache()
  const visitor = get("/breeds/", {
    "accept-language": "en",
    cookie: "who=alice",
    "user-agent": "alice's browser",
    "x-forwarded-for": "203.0.113.7",
  })
  cache.store(
    "/breeds/",
    visitor,
    page({ "cache-control": DAY, vary: "Accept-Language, Cookie" }, 200, "Hello, Alice"),
    false,
  )

  const stored = encode(cache.kept("/breeds/")!).toString("latin1")

  expect(stored).toContain('"accept-language":"en"')
  for (const value of ["who=alice", "alice's browser", "203.0.113.7"]) expect(stored).not.toContain(value)
})

test("answers a HEAD from what a GET kept", () => {
  const cache = keeping(DAY)

  expect(cache.lookup("/breeds/", { ...get(), method: "HEAD" })).toBeDefined()
})

test("answers only requests that match in the headers the page varies by", () => {
  const cache = newCache()
  const english = get("/breeds/", { "accept-language": "en" })
  cache.store("/breeds/", english, page({ "cache-control": DAY, vary: "Accept-Language" }), false)

  expect(cache.lookup("/breeds/", english)).toBeDefined()
  expect(cache.lookup("/breeds/", get("/breeds/", { "accept-language": "de" }))).toBeUndefined()
})

test("does not render again because a client asks for a fresh copy (a reload)", () => {
  const cache = keeping(DAY)
  later(10)

  expect(cache.lookup("/breeds/", get("/breeds/", { "cache-control": "max-age=0" }))).toBeDefined()
  expect(
    cache.lookup("/breeds/", get("/breeds/", { "cache-control": "no-cache", pragma: "no-cache" })),
  ).toBeDefined()
})

test("keeps a DSG page for the life of the build, whatever its headers", () => {
  const cache = newCache()
  cache.store("/dsg/", get("/dsg/"), page({ "cache-control": "public, max-age=0, must-revalidate" }), true)
  later(365 * 24 * 3600)

  const hit = cache.lookup("/dsg/", get("/dsg/"))

  expect(hit?.stale).toBe(false)
  expect(hit?.headers.age).toBe(String(365 * 24 * 3600))
})

test("never keeps a DSG page that failed to render", () => {
  const cache = newCache()

  expect(cache.store("/dsg/", get("/dsg/"), page({}, 500), true)).toBe("not-kept")
})

test("forgets a page once a new answer for it may not be kept", () => {
  const cache = keeping(DAY)

  cache.store("/breeds/", get(), page({ "cache-control": "no-store" }), false)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test("keeps each query apart", () => {
  const cache = newCache()
  cache.store("/breeds/?page=2", get("/breeds/?page=2"), page({ "cache-control": DAY }, 200, "two"), false)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
  expect(cache.lookup("/breeds/?page=2", get("/breeds/?page=2"))?.rendered.body.toString()).toBe("two")
})

test("drops the page used longest ago when the pages kept outgrow their bound in bytes", () => {
  const keep = (cache: ReturnType<typeof newCache>, url: string) => {
    cache.store(url, get(url), page({ "cache-control": DAY }, 200, "x".repeat(3000)), false)
  }
  // What one page takes, with its forms, headers and policy: a bound of 16 and a half of them.
  const one = newCache()
  keep(one, "/0/")
  const cache = newCache(Math.floor(16.5 * one.bytes))
  for (let i = 0; i < 16; i++) keep(cache, `/${i}/`)
  cache.lookup("/0/", get("/0/"))

  keep(cache, "/new/")

  expect(cache.lookup("/0/", get("/0/"))).toBeDefined()
  expect(cache.lookup("/1/", get("/1/"))).toBeUndefined()
  expect(cache.lookup("/new/", get("/new/"))).toBeDefined()
})

test("does not keep one answer larger than a sixteenth of its bound", () => {
  const cache = newCache(32 * 1024)

  expect(
    cache.store("/big/", get("/big/"), page({ "cache-control": DAY }, 200, "x".repeat(2100)), false),
  ).toBe("not-kept")
})

test("counts a page's compressed forms, headers and policy within its bound in bytes", () => {
  const cache = newCache(256 * 1024)
  const held: number[] = []
  for (let i = 0; i < 100; i++) {
    const url = `/${i}/`
    // Text that compresses badly, so that its forms weigh about as much as the page.
    const body = Array.from({ length: 600 }, (_, n) => ((n * 7919 + i * 104729) % 1e6).toString(36)).join(" ")
    cache.store(url, get(url), page({ "cache-control": DAY }, 200, body), false)
    const kept = cache.kept(url)
    if (kept?.rendered.forms)
      held.push(kept.rendered.body.length + kept.rendered.forms.br.length + kept.rendered.forms.gzip.length)
  }

  expect(held.length).toBe(100)
  const keptNow = Array.from({ length: 100 }, (_, i) => cache.kept(`/${i}/`)).filter(
    (kept) => kept !== undefined,
  )
  const bodies = keptNow.reduce(
    (sum, { rendered: { body, forms } }) =>
      sum + body.length + (forms ? forms.br.length + forms.gzip.length : 0),
    0,
  )
  expect(bodies).toBeLessThanOrEqual(cache.bytes)
  expect(cache.bytes).toBeLessThanOrEqual(256 * 1024)
})
