import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import os from "node:os"
import path from "node:path"
import { freePort, startServer, type RunningServer } from "test-harness"

// WEB_CONCURRENCY workers on one port, as `npm start` runs them (src/workers.js), on a small build:
// a file, a slow page, and a Gatsby Function that ends its worker's process.

jest.setTimeout(60_000)

let root: string
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-workers-"))
  const files: Record<string, string> = {
    "public/index.html": "<h1>Home</h1>",
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": `
      exports.default = async (req, res) => {
        await new Promise((resolve) => setTimeout(resolve, 500))
        res.send("<h1>slow, from " + process.pid + "</h1>")
      }`,
    ".cache/functions/crash.js": "module.exports = () => process.exit(3)",
    ".cache/node-server/routes.json": JSON.stringify({
      buildId: "workers",
      trailingSlash: "always",
      routes: [
        { type: "static", path: "/", filePath: "public/index.html", headers: [] },
        { type: "function", path: "/slow/", functionId: "ssr-engine" },
        { type: "function", path: "/api/crash/", functionId: "crash", headers: [] },
      ],
      functions: [
        { functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" },
        { functionId: "crash", pathToEntryPoint: ".cache/functions/crash.js" },
      ],
      headerRoutes: [],
    }),
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

const servers: RunningServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()))
})

async function startWorkers(env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const server = await startServer(process.execPath, [path.join(__dirname, "../start.js")], {
    cwd: root,
    env: { WEB_CONCURRENCY: "2", ...env },
    ready: (url) => `${url}/healthz`,
  })
  servers.push(server)
  await waitFor(() => server.output().includes("in 2 workers (WEB_CONCURRENCY=2)"))
  return server
}

// A GET on a connection of its own (so that each may go to another worker): its status and body.
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode!, body }))
    })
      .on("error", reject)
      .end()
  })
}

// The JSON lines a server wrote, parsed.
const lines = (server: RunningServer) =>
  server
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

async function waitFor(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 20_000; !condition();) {
    if (Date.now() > deadline) throw new Error(`still not so after 20 s: ${condition}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

test("answers from every worker, and each worker's log lines name it", async () => {
  const server = await startWorkers({ ACCESS_LOG: "1" })

  const answers = await Promise.all(Array.from({ length: 4 }, () => get(`${server.url}/slow/`)))

  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
  expect(new Set(answers.map(({ body }) => body)).size).toBe(2)
  // The access log's lines for these four (the ready check's GET /healthz has lines too, as many as
  // it took tries).
  const slow = () =>
    lines(server).filter(
      (line) => line.msg === "request completed" && (line.req as { url: string }).url === "/slow/",
    )
  await waitFor(() => slow().length === 4)
  const workers = slow().map((line) => line.worker)
  expect(new Set(workers)).toEqual(new Set([1, 2]))
})

test("finishes every worker's requests in flight on SIGTERM, then exits with 0", async () => {
  const server = await startWorkers()
  const inFlight = Array.from({ length: 4 }, () => get(`${server.url}/slow/`))
  await new Promise((resolve) => setTimeout(resolve, 200))

  process.kill(server.pid, "SIGTERM")
  const answers = await Promise.all(inFlight)

  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
  expect(new Set(answers.map(({ body }) => body)).size).toBe(2)
  expect(await server.exited).toBe(0)
})

test("replaces a worker that dies, and serves on", async () => {
  const server = await startWorkers()

  await get(`${server.url}/api/crash`).catch(() => undefined)
  await waitFor(
    () => lines(server).filter((line) => line.msg === "Server listening at " + server.url).length === 3,
  )

  expect(server.output()).toMatch(/worker \d exited \(code 3\); a new one in 100 ms/)
  const answers = await Promise.all(Array.from({ length: 4 }, () => get(`${server.url}/`)))
  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
})

test("stops, saying why, when its workers keep dying", async () => {
  const server = await startWorkers()

  for (let death = 1; death <= 5; death++) {
    await get(`${server.url}/api/crash`).catch(() => undefined)
    // Until the next worker listens (each pause twice the last), or the server stops.
    await waitFor(
      () =>
        lines(server).filter((line) => line.msg === "Server listening at " + server.url).length >=
          2 + death || server.output().includes("keep dying"),
    )
  }

  expect(await server.exited).toBe(1)
  expect(server.output()).toMatch(/workers keep dying \(5 in 60 s, the last: worker \d+, code 3\): stopping/)
})

test("stops with 1, saying so, when a worker cannot start", async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "node-adapter-no-build-"))
  try {
    const started = startServer(process.execPath, [path.join(__dirname, "../start.js")], {
      cwd: empty,
      env: { WEB_CONCURRENCY: "2" },
      ready: (url) => `${url}/healthz`,
      deadlineMs: 20_000,
    })

    await expect(started).rejects.toThrow(/No build to serve in[\s\S]*exited \(code 1\) before it served/)
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
})

test("counts every worker's answers in one set of metrics, on METRICS_PORT", async () => {
  const metricsPort = await freePort()
  const server = await startWorkers({ METRICS_PORT: String(metricsPort) })
  await waitFor(() => server.output().includes(`METRICS_PORT=${metricsPort}`))

  await Promise.all(Array.from({ length: 6 }, () => get(`${server.url}/`)))

  const { body } = await get(`http://127.0.0.1:${metricsPort}/metrics`)
  expect(body).toMatch(/^http_requests_total\{kind="file",status="200"\} 6$/m)
})
