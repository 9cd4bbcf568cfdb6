import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { startRedis, startServer, type RunningRedis, type RunningServer } from "test-harness"

// A fleet: servers of one build, each a process of its own as `npm start` runs it, sharing one Valkey
// or Redis (REDIS_URL) for their rendered pages. The pages' stand-in engine asks an API of this test's
// for each render, so that the API's count is the fleet's renders.

jest.setTimeout(60_000)

// A stand-in for Gatsby's SSR engine: every page asks the API, then answers what it said, kept for an
// hour by a shared cache.
const ENGINE = `
exports.default = async (req, res) => {
  const dog = await (await fetch(process.env.API_URL + req.url)).text()
  res.setHeader("Cache-Control", "public, s-maxage=3600")
  res.send("<h1>" + req.url + "</h1><p>" + dog + "</p>" + "<p>Dogs.</p>".repeat(200))
}`

// A build in the shape `gatsby build` and the adapter leave, with the id the adapter gave it.
function writeBuild(dir: string, buildId: string): void {
  const files: Record<string, string> = {
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": ENGINE,
    ".cache/node-server/routes.json": JSON.stringify({
      buildId,
      trailingSlash: "always",
      routes: [{ type: "function", path: "/pages/:page/", functionId: "ssr-engine" }],
      functions: [{ functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" }],
      headerRoutes: [],
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
let redis: RunningRedis
const servers: RunningServer[] = []

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-fleet-"))
  build = path.join(root, "build-1")
  writeBuild(build, "build-1")
  // The API takes 200 ms, so that requests that come together overlap a render.
  api = createHttpServer((req, res) => {
    asked[req.url!] = (asked[req.url!] ?? 0) + 1
    setTimeout(() => res.end(`a dog for ${req.url}`), 200)
  })
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve))
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`
  redis = await startRedis()
})
beforeEach(() => {
  asked = {}
})
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()))
  redis.thaw()
})
afterAll(async () => {
  await redis.stop()
  api.close()
  rmSync(root, { recursive: true, force: true })
})

// A server of the fleet, on the build in `site`.
async function startFleetServer(site = build, env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const server = await startServer(process.execPath, [path.join(__dirname, "../start.js")], {
    cwd: site,
    env: { API_URL: apiUrl, REDIS_URL: redis.url, WEB_CONCURRENCY: "1", ...env },
    ready: (url) => `${url}/healthz`,
  })
  servers.push(server)
  return server
}

async function get(
  server: RunningServer,
  page: string,
): Promise<{ status: number; body: string; age: string | null }> {
  const res = await fetch(`${server.url}/pages/${page}/`)
  return { status: res.status, body: await res.text(), age: res.headers.get("age") }
}

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

test("answers a page while the store answers nothing, after the bound it waits for the store", async () => {
  const a = await startFleetServer(build, { REDIS_TIMEOUT_MS: "50" })
  redis.freeze()

  const res = await get(a, "frozen")

  expect(res.status).toBe(200)
  expect(renders("frozen")).toBe(1)
  await waitFor(() => a.output().includes('"msg":"shared cache: timeout"'))
})

// Until the condition holds, for at most 20 s.
async function waitFor(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 20_000; !condition();) {
    if (Date.now() > deadline) throw new Error(`still not so after 20 s: ${condition}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
