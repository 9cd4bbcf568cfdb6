import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type { GetServerDataProps } from "gatsby"
import { server as msw } from "./mocks/node"

// The dog API client keeps its connections open between requests. A server closes an idle one after
// its keep-alive timeout, and when that crosses the next request on it, the request fails with a reset
// before the server has seen it. These tests need real sockets, so msw stands aside for this file.
// It is not started again after them: jest.setup.ts's afterAll, which closes it, runs before this file's,
// so it would stay listening into the next test file and answer that file's requests with stale handlers.

const DOG = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"

// What the dog API below does with a request on a connection that has already served one.
let onReuse: "drop" | "hang" = "drop"
// The requests it was sent, and those of them that came on a connection it had already used.
let asked = 0
let reused = 0

let api: Server
// Promise rejections that nothing handled: a request the client lost track of.
let unhandled: unknown[] = []
const recordUnhandled = (reason: unknown) => unhandled.push(reason)

beforeAll(async () => {
  msw.close()
  // A dog API that answers the first request on each connection, and then drops or holds the next.
  const served = new WeakMap<Socket, number>()
  api = createServer((req, res) => {
    asked++
    const count = (served.get(req.socket) ?? 0) + 1
    served.set(req.socket, count)
    if (count > 1) {
      reused++
      if (onReuse === "drop") req.socket.destroy()
      return
    }
    res.setHeader("content-type", "application/json")
    res.end(JSON.stringify({ message: DOG, status: "success" }))
  })
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve))
  process.env.DOG_API_URL = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`
})

beforeEach(() => {
  // A fresh client for each test, with no connections yet.
  jest.resetModules()
  asked = reused = 0
  unhandled = []
  process.on("unhandledRejection", recordUnhandled)
})

afterEach(() => {
  jest.restoreAllMocks()
  process.off("unhandledRejection", recordUnhandled)
  delete process.env.DOG_API_TIMEOUT_MS
})

afterAll(async () => {
  delete process.env.DOG_API_URL
  api.closeAllConnections()
  await new Promise((resolve) => api.close(resolve))
})

// Two visits to /ssr/: the second goes out on the connection the first one used.
async function visitTwice() {
  const { getServerData } = await import("../src/pages/ssr")
  const visit = () => getServerData({ method: "GET" } as GetServerDataProps)
  const first = await visit()
  // Let the first answer's connection go back to the client's pool.
  await new Promise((resolve) => setImmediate(resolve))
  return [first, await visit()]
}

test("shows a dog when the dog API closes the kept-alive connection as it is reused", async () => {
  onReuse = "drop"

  const [first, second] = await visitTwice()

  expect(first).toEqual({ props: { message: DOG } })
  expect(reused).toBe(1)
  expect(second).toEqual({ props: { message: DOG } })
})

test("answers 500 when the dog API hangs on a kept-alive connection, and asks it nothing more", async () => {
  onReuse = "hang"
  process.env.DOG_API_TIMEOUT_MS = "200"
  jest.spyOn(console, "warn").mockImplementation(() => {})

  const [, second] = await visitTwice()
  // Long enough for a request sent after the timeout to reach the API, or to fail unhandled.
  await new Promise((resolve) => setTimeout(resolve, 200))

  expect(second).toMatchObject({ status: 500 })
  expect(asked).toBe(2)
  expect(unhandled).toEqual([])
})
