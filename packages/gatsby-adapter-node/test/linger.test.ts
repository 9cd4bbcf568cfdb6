import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { connect, type Socket } from "node:net"
import os from "node:os"
import path from "node:path"
import type { FastifyInstance } from "fastify"
import { createServer } from "../src/server"

// A request refused before its body has arrived (405, 413) gets its answer, even from a client that
// reads only once it has sent its body, and then the connection ends: a lingering close, bounded.

let root: string
let server: FastifyInstance
let port: number

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-linger-"))
  mkdirSync(path.join(root, "public/page-data"), { recursive: true })
  mkdirSync(path.join(root, ".cache/node-server"), { recursive: true })
  writeFileSync(path.join(root, "public/index.html"), "<h1>Home</h1>")
  writeFileSync(path.join(root, "public/page-data/app-data.json"), "{}")
  writeFileSync(
    path.join(root, ".cache/node-server/routes.json"),
    JSON.stringify({
      trailingSlash: "always",
      routes: [{ type: "static", path: "/", filePath: "public/index.html", headers: [] }],
      functions: [],
      headerRoutes: [],
    }),
  )
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

async function start(options: Parameters<typeof createServer>[0] = {}): Promise<void> {
  server = await createServer({ root, ...options })
  await server.listen({ port: 0, host: "127.0.0.1" })
  port = (server.server.address() as { port: number }).port
}
afterEach(() => server.close())

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const chunk = Buffer.alloc(64 * 1024, "a")

type Outcome = { answer: string; ended: "end" | string }

// A client that sends a POST's headers and the first part of a body of `length` bytes, more `later`,
// and reads only then: what it read, and how the connection ended (a clean end, or an error's code).
function postThenRead(url: string, length: number, later: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let answer = ""
    const socket: Socket = connect(port, "127.0.0.1", async () => {
      socket.pause()
      socket.write(`POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`)
      socket.write(chunk)
      // The answer arrives meanwhile, unread.
      await pause(200)
      for (let sent = 0; sent < later && !socket.destroyed; sent += chunk.length)
        socket.write(chunk, () => {})
      await pause(200)
      socket.on("data", (data: Buffer) => (answer += data.toString("latin1"))).resume()
    })
    const finish = (ended: string) => resolve({ answer, ended })
    socket.once("end", () => finish("end"))
    socket.once("error", (error: NodeJS.ErrnoException) => finish(error.code ?? error.message))
  })
}

test("answers a POST to a file with 405, and ends the connection without a reset, while its body still comes", async () => {
  await start()
  const { answer, ended } = await postThenRead("/", 900 * 1024, 256 * 1024)

  expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*connection: close\r\n/i)
  expect(answer).toMatch(/allow: GET, HEAD/)
  expect(ended).toBe("end")
})

test("answers 413 to a body over the limit, and ends the connection without a reset, while it still comes", async () => {
  await start({ bodyLimit: 1024 })
  const { answer, ended } = await postThenRead("/api/anything", 2 * 1024 * 1024, 256 * 1024)

  expect(answer).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/)
  expect(ended).toBe("end")
})

test("stops reading a refused body past the bytes it lingers for", async () => {
  await start({ linger: { ms: 10_000, bytes: 128 * 1024 } })
  const socket = connect(port, "127.0.0.1")
  socket.on("error", () => {})
  await new Promise((resolve) => socket.once("connect", resolve))
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 * 1024}\r\n\r\n`)
  const closed = new Promise((resolve) => socket.once("close", resolve))
  let sent = 0
  while (!socket.destroyed && sent < 64 * 1024 * 1024) {
    if (!socket.write(chunk, () => {}))
      await new Promise((resolve) => socket.once("drain", resolve).once("close", resolve))
    sent += chunk.length
  }
  await closed

  expect(sent).toBeLessThan(64 * 1024 * 1024)
})

test("lets go of a connection whose refused body stops coming, once it has lingered its time", async () => {
  await start({ linger: { ms: 300, bytes: 4 * 1024 * 1024 } })
  const released = new Promise<number>((resolve) =>
    server.server.once("connection", (connection: Socket) =>
      connection.once("close", () => resolve(Date.now())),
    ),
  )
  // A client that keeps its side open once the server has ended its own, and sends no more.
  const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true })
  socket.on("error", () => {})
  await new Promise((resolve) => socket.once("connect", resolve))
  socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${512 * 1024}\r\n\r\n`)
  socket.write(chunk)
  const answered = new Promise<number>((resolve) => socket.once("data", () => resolve(Date.now())))

  const lingered = (await released) - (await answered)
  socket.destroy()

  expect(lingered).toBeGreaterThanOrEqual(250)
})

// Two requests written at once on one connection, the second with `Connection: close`, and all the
// server sends back until it closes: after the second answer, or after the first if it dropped the
// connection.
function twoRequestsOnOneConnection(first: string, second: string): Promise<string> {
  return new Promise((resolve) => {
    let answers = ""
    const socket = connect(port, "127.0.0.1", () => socket.write(`${first}${second}`))
    socket.on("data", (data: Buffer) => (answers += data.toString("latin1")))
    socket.once("close", () => resolve(answers))
    socket.on("error", () => {})
  })
}

test("reads and drops a small body it does not need, and answers the next request on the connection", async () => {
  await start()

  const answers = await twoRequestsOnOneConnection(
    "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  )

  expect(answers.match(/^HTTP\/1\.1 200 OK\r\n/gm)).toHaveLength(2)
})

test("answers a POST to a file with a small body 405, and the next request on the connection", async () => {
  await start()

  const answers = await twoRequestsOnOneConnection(
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
    "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
  )

  expect(answers.match(/^HTTP\/1\.1 \d+ .*\r\n/gm)).toEqual([
    "HTTP/1.1 405 Method Not Allowed\r\n",
    "HTTP/1.1 200 OK\r\n",
  ])
})
