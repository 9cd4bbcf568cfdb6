import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { getResponse } from "msw"
import { dogApiFailures, dogApiHandlers, type Failure } from "../../__tests__/mocks/handlers"

// A stand-in for dog.ceo on 127.0.0.1: a real HTTP server that answers with the same msw
// handlers as the unit tests, and serves the dog images too, so the site works offline.

export type StandInApi = {
  // What DOG_API_URL should be, for example http://127.0.0.1:4321/api
  apiUrl: string
  // Makes every API request fail in one way, or (null) answer normally again.
  fail(failure: Failure | null): void
  // Whether fail() has made it fail since this was last asked.
  failedSinceAsked(): boolean
  // How many API requests (not images) it has answered: all of them, or those for one endpoint
  // ("/breeds/list/all"), so that a test counts what it means to, whatever else a browser prefetches.
  apiRequests(endpoint?: string): number
  close(): Promise<void>
}

export async function startStandInApi({ port = 0 } = {}): Promise<StandInApi> {
  let failure: Failure | null = null
  let failedSince = false
  const apiRequests = new Map<string, number>()

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin)
    if (url.pathname.startsWith("/api/")) {
      const endpoint = url.pathname.slice("/api".length)
      apiRequests.set(endpoint, (apiRequests.get(endpoint) ?? 0) + 1)
    }
    const active = failure ? [failures[failure], ...handlers] : handlers
    const response =
      (await getResponse(active, new Request(url, { method: req.method }))) ??
      new Response("Not found", { status: 404 })
    // HttpResponse.error(): the network fails, so drop the connection without an answer.
    if (response.type === "error") {
      req.socket.destroy()
      return
    }
    res.writeHead(response.status, Object.fromEntries(response.headers))
    res.end(Buffer.from(await response.arrayBuffer()))
  }

  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error))
    })
  })
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const handlers = dogApiHandlers(`${origin}/api`)
  const failures = dogApiFailures(`${origin}/api`)

  return {
    apiUrl: `${origin}/api`,
    fail(next) {
      failure = next
      if (next) failedSince = true
    },
    failedSinceAsked() {
      const failed = failedSince
      failedSince = false
      return failed
    },
    apiRequests: (endpoint) =>
      endpoint === undefined
        ? [...apiRequests.values()].reduce((sum, n) => sum + n, 0)
        : (apiRequests.get(endpoint) ?? 0),
    close() {
      // A hanging answer would otherwise keep close() waiting forever.
      server.closeAllConnections()
      return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
    },
  }
}
