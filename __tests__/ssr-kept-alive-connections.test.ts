import { createServer, type Server } from "node:http"
import type { AddressInfo, Socket } from "node:net"
import type { GetServerDataProps } from "gatsby"
import { server as msw } from "../mocks/node"

// The dog API client keeps its connections open between requests. A server closes an idle one after
// its keep-alive timeout, and when that crosses the next request on it, the request fails with a reset
// before the server has seen it. These tests need real sockets, so msw stands aside for this file.
// It is not started again after them: jest.setup.ts's afterAll, which closes it, runs before this file's,
// so it would stay listening into the next test file and answer that file's requests with stale handlers.

const DOG = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"

let api: Server
// Requests that arrived on a connection that had already served one, and were dropped unanswered.
let dropped = 0

beforeAll(async () => {
  msw.close()
  // A dog API that closes every connection just as its second request arrives: the race above, each time.
  const served = new WeakMap<Socket, number>()
  api = createServer((req, res) => {
    const count = (served.get(req.socket) ?? 0) + 1
    served.set(req.socket, count)
    if (count > 1) {
      dropped++
      req.socket.destroy()
      return
    }
    res.setHeader("content-type", "application/json")
    res.end(JSON.stringify({ message: DOG, status: "success" }))
  })
  await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve))
  process.env.DOG_API_URL = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`
})

afterAll(async () => {
  delete process.env.DOG_API_URL
  api.closeAllConnections()
  await new Promise((resolve) => api.close(resolve))
})

test("shows a dog when the dog API closes the kept-alive connection as it is reused", async () => {
  const { getServerData } = await import("../src/pages/ssr")
  const visit = () => getServerData({ method: "GET" } as GetServerDataProps)
  await expect(visit()).resolves.toEqual({ props: { message: DOG } })
  // Let the first answer's connection go back to the client's pool.
  await new Promise((resolve) => setImmediate(resolve))

  const second = await visit()

  expect(dropped).toBe(1)
  expect(second).toEqual({ props: { message: DOG } })
})
