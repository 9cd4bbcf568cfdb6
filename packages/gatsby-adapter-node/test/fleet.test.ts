import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { createClient, RESP_TYPES } from "@redis/client"
import sharp from "sharp"
import { freePort, startRedis, startServer, type RunningRedis, type RunningServer } from "test-harness"
import { generateImageUrl } from "../src/image-urls"

// A fleet: servers of one build, each a process of its own as `npm start` runs it, sharing one Valkey
// or Redis (REDIS_URL) for their rendered pages. The pages' stand-in engine asks an API of this test's
// for each render, so that the API's count is the fleet's renders.

jest.setTimeout(60_000)

// A stand-in for Gatsby's SSR engine: every page asks the API, then answers what it said, kept for an
// hour by a shared cache; pages named for it do otherwise: stale- pages are fresh for a second, then
// stale for a minute; no-store- pages are never kept; varies- pages vary by Accept-Language (and Cookie,
// and Cookie and Authorization, for varies-by-cookie- ones); throws- pages throw; big- pages are 100 KB. Each greets the visitor by
// the "who" cookie it was sent; an API that answers 500 makes the page answer 500.
const ENGINE = `
exports.default = async (req, res) => {
  const answer = await fetch(process.env.API_URL + req.url)
  const dog = await answer.text()
  if (!answer.ok) return res.status(500).setHeader("Cache-Control", "no-store").send("<h1>No dog</h1>")
  const name = req.url.split("/")[2]
  if (name.startsWith("throws-")) throw new Error("the page broke")
  res.setHeader(
    "Cache-Control",
    name.startsWith("stale-") ? "public, s-maxage=1, stale-while-revalidate=60"
      : name.startsWith("no-store-") ? "no-store"
      : "public, s-maxage=3600",
  )
  if (name.startsWith("varies-"))
    res.setHeader("Vary", name.startsWith("varies-by-cookie-") ? "Accept-Language, Cookie, Authorization" : "Accept-Language")
  const who = /who=(\\w+)/.exec(req.headers.cookie ?? "")?.[1] ?? "stranger"
  const filler = "<p>Dogs.</p>".repeat(name.startsWith("big-") ? 8000 : 200)
  res.send("<h1>" + req.url + "</h1><p>Hello, " + who + ": " + dog + "</p>" + filler)
}`

// A build in the shape `gatsby build` and the adapter leave, with the id the adapter gave it.
function writeBuild(dir: string, buildId: string): void {
  const files: Record<string, string> = {
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": ENGINE,
    ".cache/node-server/routes.json": JSON.stringify({
      buildId,
      secret: `the secret of ${buildId}`,
      trailingSlash: "always",
      routes: [{ type: "function", path: "/pages/:page/", functionId: "ssr-engine" }],
      functions: [{ functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" }],
      headerRoutes: [],
      remoteFileAllowedUrls: [`${photosUrl}/*`],
    }),
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    writeFileSync(path.join(dir, file), text)
  }
}

let root: string
let build: string
let api: Server
let apiUrl: string
let asked: Record<string, number>
let failures: Record<string, number>
let redis: RunningRedis
const servers: RunningServer[] = []
// A host of remote images, as a CMS is, which counts what it was asked for.
let photos: Server
let photosUrl: string

beforeAll(async () => {
  const photo = await sharp({ create: { width: 1200, height: 800, channels: 3, background: "#e8b808" } })
    .jpeg()
    .toBuffer()
  photos = createHttpServer((req, res) => {
    asked[req.url!] = (asked[req.url!] ?? 0) + 1
    res.writeHead(200, { "content-type": "image/jpeg" }).end(photo)
  })
  await new Promise<void>((resolve) => photos.listen(0, "127.0.0.1", resolve))
  photosUrl = `http://127.0.0.1:${(photos.address() as AddressInfo).port}`
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-fleet-"))
  build = path.join(root, "build-1")
  writeBuild(build, "build-1")
  // The API takes 200 ms, so that requests that come together overlap a render (big- pages, at once);
  // it answers 500 to the next failures[url] calls for a page.
  api = createHttpServer((req, res) => {
    const url = req.url!
    asked[url] = (asked[url] ?? 0) + 1
    const fails = (failures[url] ?? 0) > 0
    if (fails) failures[url]--
    setTimeout(
      () => {
        res.statusCode = fails ? 500 : 200
        res.end(`dog ${asked[url]} for ${url}`)
      },
      url.includes("/big-") ? 0 : 200,
    )
  })
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve))
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  redis = await startRedis()
})
beforeEach(() => {
  asked = {}
  failures = {}
})
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()))
  redis.thaw()
})
afterAll(async () => {
  await redis.stop()
  api.close()
  photos.close()
  rmSync(root, { recursive: true, force: true })
})

// A server of the fleet, on the build in `site`. Its calls to the store may take a second, rather than
// 50 ms, so that a machine busy with other tests does not make it render what the store has.
async function startFleetServer(site = build, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const server = await startServer(process.execPath, [path.join(__dirname, "../start.js")], {
    cwd: site,
    env: { API_URL: apiUrl, REDIS_URL: redis.url, WEB_CONCURRENCY: "1", REDIS_TIMEOUT_MS: "1000", ...env },
    ready: (url) => `${url}/healthz`,
  })
  servers.push(server)
  return server
}

async function get(
  server: RunningServer,
  page: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; age: string | null; timing: string | null }> {
  const res = await fetch(`${server.url}/pages/${page}/`, { headers })
  return {
    status: res.status,
    body: await res.text(),
    age: res.headers.get("age"),
    timing: res.headers.get("server-timing"),
  }
}

// The address Gatsby's resolvers write for the host's photo at `width`, and its answers on `servers`, in turn.
async function photoFrom(servers: RunningServer[], times: number, width: number) {
  const address = generateImageUrl(
    {
      url: `${photosUrl}/dog.jpg`,
      filename: "dog.jpg",
      mimeType: "image/jpeg",
      internal: { contentDigest: "a".repeat(32) },
    },
    { width, format: "webp", quality: 75 },
  )
  return Promise.all(
    Array.from({ length: times }, async (_, i) => {
      const res = await fetch(`${servers[i % servers.length].url}${address}`)
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()).toString("base64") }
    }),
  )
}

// Every key in the store, with its value's bytes read as text.
async function storeContents(): Promise<{ values: Map<string, string>; keys: string[]; text: string }> {
  const store = createClient({ url: redis.url }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer })
  await store.connect()
  try {
    const keys = (await store.keys("*")).map(String)
    const values = await Promise.all(keys.map((key) => store.get(key)))
    const entries = keys.map((key, i) => [key, values[i]?.toString("latin1") ?? ""] as const)
    return { values: new Map(entries), keys, text: entries.flat().join("\n") }
  } finally {
    store.destroy()
  }
}

// The key the fleet keeps a page of this build under.
const pageKey = (page: string) => `gatsby-adapter-node:build-1:/pages/${page}/`

const renders = (page: string) => asked[`/pages/${page}/`] ?? 0

test("renders a page that two servers are asked for at once only once, for both", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])

  const answers = await Promise.all([a, b, a, b].map((server) => get(server, "together")))

  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
  expect(new Set(answers.map(({ body }) => body)).size).toBe(1)
  expect(renders("together")).toBe(1)
})

test("answers on one server a page that another kept, without rendering it", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])
  const first = await get(a, "kept-by-a")

  const second = await get(b, "kept-by-a")

  expect(second.body).toBe(first.body)
  expect(second.age).toMatch(/^\d+$/)
  expect(renders("kept-by-a")).toBe(1)
})

test("answers from the store on a server started after the page was kept", async () => {
  const a = await startFleetServer()
  await get(a, "kept-before")
  const later = await startFleetServer()

  const res = await get(later, "kept-before")

  expect(res.status).toBe(200)
  expect(renders("kept-before")).toBe(1)
})

test("renders again for a new build, whose pages the last build's do not answer", async () => {
  const next = path.join(root, "build-2")
  cpSync(build, next, { recursive: true })
  writeBuild(next, "build-2")
  const old = await startFleetServer()
  await get(old, "rebuilt")
  const renewed = await startFleetServer(next)

  const res = await get(renewed, "rebuilt")

  expect(res.age).toBeNull()
  expect(renders("rebuilt")).toBe(2)
})

test("answers every request while the store stops and comes back, and shares again once it is back", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])
  const statuses: number[] = []
  let n = 0
  const load = async (until: Promise<unknown>) => {
    let done = false
    void until.then(() => (done = true))
    while (!done)
      statuses.push(...(await Promise.all([a, b].map((s) => get(s, `load-${n++}`)))).map((r) => r.status))
  }

  const stopped = redis.stop()
  await load(stopped)
  await load(new Promise((resolve) => setTimeout(resolve, 500)))
  const started = redis.start()
  await load(started)
  // Each server says when its store is back (its client reconnects by itself).
  for (const server of [a, b])
    await waitFor(() => server.output().includes('"msg":"shared cache: back; pages are shared again"'))

  expect(statuses.length).toBeGreaterThan(0)
  expect(statuses.filter((status) => status !== 200)).toEqual([])
  await get(a, "after")
  await get(b, "after")
  expect(renders("after")).toBe(1)
})

test("answers a page while the store answers nothing, once its wait for the store ran out", async () => {
  const a = await startFleetServer(build, { REDIS_TIMEOUT_MS: "50" })
  redis.freeze()

  const res = await get(a, "frozen")

  expect(res.status).toBe(200)
  expect(renders("frozen")).toBe(1)
  // It asked the store (for the page, then for the lock) and gave each call its 50 ms.
  expect(Number(/store;dur=([\d.]+)/.exec(res.timing ?? "")?.[1])).toBeGreaterThanOrEqual(100)
  await waitFor(() => a.output().includes('"msg":"shared cache: timeout"'))
})

test("starts and serves with its store down, saying so in a line, and stops with 0", async () => {
  const closed = await freePort()
  const a = await startFleetServer(build, { REDIS_URL: `redis://127.0.0.1:${closed}` })

  const res = await get(a, "store-down")

  expect(res.status).toBe(200)
  await waitFor(() =>
    a.output().includes(`"detail":"connect ECONNREFUSED 127.0.0.1:${closed}; pages render as without it"`),
  )
  expect(await a.stop()).toBe(0)
})

// Each server keeps its images in memory only, so that what one makes reaches the others by the store.
const IMAGES_IN_MEMORY = { IMAGE_DISK_BYTES: "0" }

test("makes an image that three servers are asked for at once only once, for all of them", async () => {
  const fleet = await Promise.all([1, 2, 3].map(() => startFleetServer(build, IMAGES_IN_MEMORY)))

  const answers = await photoFrom(fleet, 24, 300)

  expect(answers.map(({ status }) => status)).toEqual(Array(24).fill(200))
  expect(new Set(answers.map(({ body }) => body)).size).toBe(1)
  expect(asked["/dog.jpg"]).toBe(1)
})

test("makes images on each server while the store is down", async () => {
  const closed = await freePort()
  const fleet = await Promise.all(
    [1, 2].map(() =>
      startFleetServer(build, { ...IMAGES_IN_MEMORY, REDIS_URL: `redis://127.0.0.1:${closed}` }),
    ),
  )

  const answers = await photoFrom(fleet, 4, 301)

  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
  expect(asked["/dog.jpg"]).toBe(2)
})

test("keeps no visitor's cookie or credentials in the store, nor any other header of theirs", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])
  const visitors = ["alice", "bob", "carol", "dave"].map((who, i) => ({
    cookie: `who=${who}; session=secret-session-of-${who}`,
    authorization: `Bearer token-of-${who}`,
    "accept-language": i % 2 ? "de" : "en",
    "user-agent": `browser-of-${who}`,
  }))

  for (const [i, headers] of visitors.entries()) {
    for (const page of ["varies-by-language", "varies-by-cookie-and-language", "greets"])
      expect((await get(i % 2 ? b : a, page, headers)).status).toBe(200)
  }

  const { keys, text } = await storeContents()
  expect(keys).toContain(pageKey("varies-by-cookie-and-language"))
  for (const who of ["alice", "bob", "carol", "dave"]) {
    for (const value of [`who=${who}`, `secret-session-of-${who}`, `token-of-${who}`, `browser-of-${who}`])
      expect(text).not.toContain(value)
  }
})

test("greets each visitor by their own cookie on every server, never by another's", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])

  const greetings = []
  for (const [i, who] of ["alice", "bob", "carol", "dave"].entries())
    greetings.push((await get(i % 2 ? b : a, "greets", { cookie: `who=${who}` })).body)

  expect(greetings.map((body) => /Hello, (\w+)/.exec(body)?.[1])).toEqual(["alice", "bob", "carol", "dave"])
  expect(renders("greets")).toBe(4)
  const warnings = a
    .output()
    .match(/\/pages\/:page\/: an answer that a shared cache may keep, rendered for a request with Cookie/g)
  expect(warnings).toHaveLength(1)
})

test("keeps a page that varies by Cookie for the fleet, and answers it only to the same cookie", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])
  await get(a, "varies-by-cookie-kept", { cookie: "who=alice" })

  const alice = await get(b, "varies-by-cookie-kept", { cookie: "who=alice" })
  const bob = await get(b, "varies-by-cookie-kept", { cookie: "who=bob" })

  expect(alice.age).toMatch(/^\d+$/)
  expect(bob.body).toContain("Hello, bob")
  expect(renders("varies-by-cookie-kept")).toBe(2)
})

test("after a failed render, one request renders again while the others across the fleet wait for it", async () => {
  const servers = await Promise.all([startFleetServer(), startFleetServer(), startFleetServer()])
  failures["/pages/after-failure/"] = 1

  const answers = await Promise.all(
    Array.from({ length: 24 }, (_, i) => get(servers[i % 3], "after-failure")),
  )

  expect(answers.filter(({ status }) => status === 500)).toHaveLength(1)
  expect(renders("after-failure")).toBe(2)
})

test("releases the lock of a render that throws, at once, so that no other server waits for it", async () => {
  const a = await startFleetServer()
  const lock = `gatsby-adapter-node:build-1:lock:/pages/throws-once/`

  expect((await get(a, "throws-once")).status).toBe(500)

  // Released by the server that took it, not gone by itself 10 s later.
  await waitFor(async () => !(await storeContents()).keys.includes(lock), 1000)
})

test("counts a value in the store that it cannot read as a miss, and renders the page", async () => {
  const a = await startFleetServer()
  const store = createClient({ url: redis.url })
  await store.connect()
  await store.set(pageKey("unreadable"), "\u0000\u0000\u0000\u0009{not json}")
  store.destroy()

  const res = await get(a, "unreadable")

  expect(res.status).toBe(200)
  expect(renders("unreadable")).toBe(1)
  await waitFor(() => a.output().includes('"msg":"shared cache: undecodable"'))
})

test("renews a stale page once across the fleet, and every server answers the new one", async () => {
  const [a, b] = await Promise.all([startFleetServer(), startFleetServer()])
  const first = await get(a, "stale-renewed")
  await new Promise((resolve) => setTimeout(resolve, 1100))

  // b has it from the store, stale: it answers it and renders it again, once.
  expect((await get(b, "stale-renewed")).body).toBe(first.body)
  await waitFor(() => renders("stale-renewed") === 2)
  // a still has the stale one in memory: it answers it, and finds the new one in the store.
  await waitFor(async () => (await get(a, "stale-renewed")).body !== first.body)

  expect(renders("stale-renewed")).toBe(2)
})

test("tells the fleet once that a page is never kept, so that no server waits for it", async () => {
  const a = await startFleetServer()

  await get(a, "no-store-page")
  await get(a, "no-store-page")

  const { values } = await storeContents()
  expect(values.get(pageKey("no-store-page"))).toBe("not-kept")
})

test("holds no more memory while the store answers nothing under load", async () => {
  // A cache in memory of its own, small and soon full, so that what grows is what waits for the store;
  // and no load shedding, which this test does not measure: on a machine busy with other work the
  // server shed some of its pages (503) as its event loop lagged.
  const a = await startFleetServer(build, {
    RESPONSE_CACHE_BYTES: String(8 * 1024 * 1024),
    REDIS_TIMEOUT_MS: "50",
    MAX_EVENT_LOOP_DELAY_MS: "0",
  })
  let n = 0
  const load = async (ms: number) => {
    const until = Date.now() + ms
    const client = async () => {
      while (Date.now() < until) expect((await get(a, `big-${n++}`)).status).toBe(200)
    }
    await Promise.all(Array.from({ length: 16 }, client))
  }
  await load(3000)
  const before = rss(a.pid)

  redis.freeze()
  await load(10_000)

  // Each page is 100 KB: a server that kept every write for the store grew by hundreds of megabytes.
  expect(rss(a.pid) - before).toBeLessThan(64 * 1024 * 1024)
})

// A process's resident memory, in bytes.
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024
}

// Until the condition holds, for at most 20 s (or as long as said).
async function waitFor(condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`still not so after ${ms} ms: ${condition}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
