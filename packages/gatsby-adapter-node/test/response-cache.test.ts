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

// A cache that has kept /breeds/, which said this Cache-Control.
function keeping(cacheControl: string) {
  const cache = createResponseCache({ maxBytes: 1_000_000 })
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
  const cache = createResponseCache({ maxBytes: 1_000_000 })

  expect(cache.store("/breeds/", get(), page(headers), false)).toBe(false)
  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test.each([301, 404, 500])("never keeps an answer with status %i", (status) => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })

  expect(cache.store("/breeds/", get(), page({ "cache-control": DAY }, status), false)).toBe(false)
})

test.each(["HEAD", "POST"])("never keeps the answer to a %s", (method) => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })

  expect(cache.store("/breeds/", { ...get(), method }, page({ "cache-control": DAY }), false)).toBe(false)
})

test("never keeps the answer to a request with credentials, unless it says public (or s-maxage)", () => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })
  const signedIn = get("/breeds/", { authorization: "Bearer dog" })

  expect(cache.store("/breeds/", signedIn, page({ "cache-control": "max-age=600" }), false)).toBe(false)
  expect(cache.store("/breeds/", signedIn, page({ "cache-control": "public, s-maxage=600" }), false)).toBe(
    true,
  )
})

test("answers a HEAD from what a GET kept", () => {
  const cache = keeping(DAY)

  expect(cache.lookup("/breeds/", { ...get(), method: "HEAD" })).toBeDefined()
})

test("answers only requests that match in the headers the page varies by", () => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })
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
  const cache = createResponseCache({ maxBytes: 1_000_000 })
  cache.store("/dsg/", get("/dsg/"), page({ "cache-control": "public, max-age=0, must-revalidate" }), true)
  later(365 * 24 * 3600)

  const hit = cache.lookup("/dsg/", get("/dsg/"))

  expect(hit?.stale).toBe(false)
  expect(hit?.headers.age).toBe(String(365 * 24 * 3600))
})

test("never keeps a DSG page that failed to render", () => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })

  expect(cache.store("/dsg/", get("/dsg/"), page({}, 500), true)).toBe(false)
})

test("forgets a page once a new answer for it may not be kept", () => {
  const cache = keeping(DAY)

  cache.store("/breeds/", get(), page({ "cache-control": "no-store" }), false)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
})

test("keeps each query apart", () => {
  const cache = createResponseCache({ maxBytes: 1_000_000 })
  cache.store("/breeds/?page=2", get("/breeds/?page=2"), page({ "cache-control": DAY }, 200, "two"), false)

  expect(cache.lookup("/breeds/", get())).toBeUndefined()
  expect(cache.lookup("/breeds/?page=2", get("/breeds/?page=2"))?.rendered.body.toString()).toBe("two")
})

test("drops the page used longest ago when the pages kept outgrow their bound in bytes", () => {
  // 16 pages of about 1.9 KB each, with their headers, fill 32 KB; a 17th does not fit.
  const cache = createResponseCache({ maxBytes: 32 * 1024 })
  const keep = (url: string) => {
    cache.store(url, get(url), page({ "cache-control": DAY }, 200, "x".repeat(1800)), false)
  }
  for (let i = 0; i < 16; i++) keep(`/${i}/`)
  cache.lookup("/0/", get("/0/"))

  keep("/new/")

  expect(cache.lookup("/0/", get("/0/"))).toBeDefined()
  expect(cache.lookup("/1/", get("/1/"))).toBeUndefined()
  expect(cache.lookup("/new/", get("/new/"))).toBeDefined()
})

test("does not keep one answer larger than a sixteenth of its bound", () => {
  const cache = createResponseCache({ maxBytes: 32 * 1024 })

  expect(
    cache.store("/big/", get("/big/"), page({ "cache-control": DAY }, 200, "x".repeat(2100)), false),
  ).toBe(false)
})
