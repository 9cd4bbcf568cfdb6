import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { request } from "node:http"
import { createServer as createNetServer, type AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { freePort, startServer, type RunningServer } from "test-harness"

// WEB_CONCURRENCY workers on one port, as `npm start` runs them (src/workers.js), on a small build:
// a file, a slow page, and Gatsby Functions that end their worker's process, throw in a timer, or
// cut their worker off from the primary. With SLOW_LOAD_MS, its functions take that long to load, as a
// big site's engine does: a time to stop it in while it starts.

jest.setTimeout(60_000)

let root: string
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-workers-"))
  const files: Record<string, string> = {
    "public/index.html": "<h1>Home</h1>",
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": `
      exports.default = async (req, res) => {
        console.log("rendering in " + process.pid)
        await new Promise((resolve) => setTimeout(resolve, 500))
        res.send("<h1>slow, from " + process.pid + "</h1>")
      }`,
    // Loaded at start, as every Gatsby Function is; slowly with SLOW_LOAD_MS.
    ".cache/functions/crash.js": `
      if (process.env.SLOW_LOAD_MS) {
        console.log("loading the functions")
        for (const end = Date.now() + Number(process.env.SLOW_LOAD_MS); Date.now() < end;);
      }
      module.exports = () => process.exit(3)`,
    ".cache/functions/throws-later.js": `
      module.exports = () => { setTimeout(() => { throw new Error("thrown in a timer") }, 10) }`,
    // A worker that closes its channel to the primary, then is busy for 5 s before it can exit (as it
    // does once its channel closes).
    ".cache/functions/disconnects.js": `
      module.exports = () => {
        process.prependListener("disconnect", () => {
          console.log("cut off from the primary")
          for (const end = Date.now() + 5000; Date.now() < end;);
        })
        process.disconnect()
      }`,
    ".cache/node-server/routes.json": JSON.stringify({
      buildId: "workers",
      trailingSlash: "always",
      routes: [
        { type: "static", path: "/", filePath: "public/index.html", headers: [] },
        { type: "function", path: "/slow/", functionId: "ssr-engine" },
        { type: "function", path: "/api/crash/", functionId: "crash", headers: [] },
        { type: "function", path: "/api/throws-later/", functionId: "throws-later", headers: [] },
        { type: "function", path: "/api/disconnects/", functionId: "disconnects", headers: [] },
      ],
      functions: [
        { functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" },
        { functionId: "crash", pathToEntryPoint: ".cache/functions/crash.js" },
        { functionId: "throws-later", pathToEntryPoint: ".cache/functions/throws-later.js" },
        { functionId: "disconnects", pathToEntryPoint: ".cache/functions/disconnects.js" },
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

// `npm start` in a process group of its own, on a port of 127.0.0.1 that nobody asks (PORT unless said),
// for tests that stop or fail it before it serves; killed at the test's end if it still runs.
function spawnStart(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(__dirname, "../start.js")], {
    cwd: root,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  spawned.push({ pid: child.pid!, exited })
  return { pid: child.pid!, exited, output: () => output }
}
const spawned: Array<{ pid: number; exited: Promise<unknown> }> = []
afterEach(async () => {
  for (const { pid, exited } of spawned.splice(0)) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // It has exited.
    }
    await exited
  }
})

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
  await waitFor(() => server.output().match(/rendering in \d+/g)?.length === 4)

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

test("serves on, and counts them, while its workers are killed six times in a minute", async () => {
  const metricsPort = await freePort()
  const server = await startWorkers({ METRICS_PORT: String(metricsPort) })
  const listening = () => lines(server).filter((line) => line.msg === "Server listening at " + server.url)

  for (let death = 1; death <= 6; death++) {
    const { pid } = listening().at(-1)!
    process.kill(pid as number, "SIGKILL")
    // Until its replacement listens (each pause twice the last).
    await waitFor(() => listening().length === 2 + death)
  }

  expect(server.output()).toMatch(/worker \d+ exited \(signal SIGKILL\); a new one in 3200 ms/)
  const answers = await Promise.all(Array.from({ length: 4 }, () => get(`${server.url}/`)))
  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
  expect((await get(`http://127.0.0.1:${metricsPort}/metrics`)).body).toMatch(/^workers_replaced_total 6$/m)
  expect(await server.stop()).toBe(0)
})

test("answers 500 for a Gatsby Function that throws in a timer, and replaces the worker it stopped", async () => {
  const server = await startWorkers()

  const failed = await get(`${server.url}/api/throws-later`)
  await waitFor(() => /worker \d+ exited \(code 1\); a new one in 100 ms/.test(server.output()))

  expect(failed.status).toBe(500)
  expect(server.output()).toContain("thrown in a timer")
  const answers = await Promise.all(Array.from({ length: 4 }, () => get(`${server.url}/`)))
  expect(answers.map(({ status }) => status)).toEqual([200, 200, 200, 200])
})

test("stops cleanly, with 0, on a SIGTERM to the whole group while its workers start", async () => {
  const started = spawnStart({ WEB_CONCURRENCY: "2", SLOW_LOAD_MS: "1500" })
  await waitFor(() => started.output().match(/loading the functions/g)?.length === 2)

  process.kill(-started.pid, "SIGTERM")

  expect(await started.exited).toBe(0)
  expect(started.output()).not.toContain("Serving the built site")
})

test("stops cleanly, with 0, on a SIGTERM while it starts in one process", async () => {
  const started = spawnStart({ WEB_CONCURRENCY: "1", SLOW_LOAD_MS: "1500" })
  await waitFor(() => started.output().includes("loading the functions"))

  process.kill(started.pid, "SIGTERM")

  expect(await started.exited).toBe(0)
})

test("stops cleanly when a worker that it must tell to stop is cut off from it", async () => {
  const server = await startWorkers()
  const answer = get(`${server.url}/api/disconnects`).catch((error: Error) => error)
  await waitFor(() => server.output().includes("cut off from the primary"))
  // The primary hears that the channel closed (nothing it prints says when).
  await new Promise((resolve) => setTimeout(resolve, 1000))

  process.kill(server.pid, "SIGTERM")

  expect(await server.exited).toBe(0)
  expect(server.output()).not.toContain("ERR_IPC_CHANNEL_CLOSED")
  // The request the worker was busy with when it exited has no answer.
  expect(await answer).not.toHaveProperty("status")
})

test.each(["2", "1"])(
  "says in one line that its PORT is in use, and exits with 1 (WEB_CONCURRENCY=%s)",
  async (workers) => {
    const taken = createNetServer()
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve))
    const { port } = taken.address() as AddressInfo
    try {
      const started = spawnStart({ WEB_CONCURRENCY: workers, PORT: String(port) })

      expect(await started.exited).toBe(1)
      expect(started.output().trim()).toBe(
        `PORT ${port} is in use on 127.0.0.1 (EADDRINUSE): stop what listens there, or set PORT`,
      )
    } finally {
      taken.close()
    }
  },
)

test("stops with 1, saying so, when a worker cannot start", async () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "node-adapter-no-build-"))
  try {
    const started = startServer(process.execPath, [path.join(__dirname, "../start.js")], {
      cwd: empty,
      env: { WEB_CONCURRENCY: "2" },
      ready: (url) => `${url}/healthz`,
      deadlineMs: 20_000,
    })

    const error = await started.catch((thrown: Error) => thrown)
    // Said once, by the primary, for both workers.
    expect(String(error).match(/No build to serve in/g)).toHaveLength(1)
    expect(String(error)).toMatch(/exited \(1\) before answering/)
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
