import diagnosticsChannel from "node:diagnostics_channel"
import type { GetServerDataProps } from "gatsby"
import { http, HttpResponse } from "msw"
import { failures, type Failure } from "./mocks/handlers"
import { server } from "./mocks/node"

import * as page from "../src/pages/ssr"

// A visit as Gatsby makes it; getServerData reads only the method.
function getServerData(method = "GET") {
  return page.getServerData({ method } as GetServerDataProps)
}

const DOG = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"
const FAILED = { status: 500, headers: { "Cache-Control": "no-store" }, props: {} }

let consoleWarn: jest.SpyInstance

// Each test starts with the dog API's circuit breaker closed and nothing logged (jest.setup.ts).
beforeEach(() => {
  // The failure log line is asserted where it matters; elsewhere it would only clutter the output.
  consoleWarn = jest.spyOn(console, "warn").mockImplementation(() => {})
})

afterEach(() => {
  consoleWarn.mockRestore()
  delete process.env.DOG_API_URL
  delete process.env.DOG_API_TIMEOUT_MS
})

test("shows a dog: props carry the image URL from dog.ceo's random-image endpoint", async () => {
  const requested: string[] = []
  server.use(
    http.get("*/breeds/image/random", ({ request }) => {
      requested.push(request.url)
      return HttpResponse.json({ message: DOG, status: "success" })
    }),
  )

  await expect(getServerData()).resolves.toEqual({ props: { message: DOG } })
  expect(requested).toEqual(["https://dog.ceo/api/breeds/image/random"])
})

test("sends only the image URL to the page, not the rest of the upstream answer", async () => {
  server.use(
    http.get("*/breeds/image/random", () =>
      HttpResponse.json({ message: DOG, status: "success", padding: "x".repeat(4000) }),
    ),
  )

  const result = await getServerData()

  expect(result.props).toStrictEqual({ message: DOG })
})

test("asks the API that DOG_API_URL names at request time", async () => {
  server.use(
    http.get("http://127.0.0.1:4999/api/breeds/image/random", () =>
      HttpResponse.json({ message: DOG, status: "success" }),
    ),
  )

  process.env.DOG_API_URL = "http://127.0.0.1:4999/api/"

  await expect(getServerData()).resolves.toEqual({ props: { message: DOG } })
})

test("answers 500 with no-store when dog.ceo answers 503", async () => {
  server.use(
    http.get("*/breeds/image/random", () => new HttpResponse("Service Unavailable", { status: 503 })),
  )

  await expect(getServerData()).resolves.toEqual(FAILED)
})

test("answers 200 with no-store under gatsby develop, which shows a blank page for a 500", async () => {
  server.use(failures["http-500"])
  const nodeEnv = process.env.NODE_ENV
  process.env.NODE_ENV = "development"

  try {
    await expect(getServerData()).resolves.toEqual({ ...FAILED, status: 200 })
  } finally {
    process.env.NODE_ENV = nodeEnv
  }
})

test("logs one line saying why there is no dog", async () => {
  server.use(
    http.get("*/breeds/image/random", () => new HttpResponse("Service Unavailable", { status: 503 })),
  )

  await getServerData()

  expect(consoleWarn).toHaveBeenCalledTimes(1)
  expect(consoleWarn).toHaveBeenCalledWith(
    "[/ssr/] no dog: GET https://dog.ceo/api/breeds/image/random answered HTTP 503",
  )
})

test("reports the failure, by API and reason, to a server that listens (the Node server's log and metrics)", async () => {
  server.use(
    http.get("*/breeds/image/random", () => new HttpResponse("Service Unavailable", { status: 503 })),
  )
  const reported: unknown[] = []
  const report = (message: unknown) => reported.push(message)
  diagnosticsChannel.subscribe("gatsby-adapter-node:upstream-failure", report)

  try {
    await getServerData()
  } finally {
    diagnosticsChannel.unsubscribe("gatsby-adapter-node:upstream-failure", report)
  }

  expect(reported).toEqual([
    {
      api: "dog API",
      reason: "HTTP 503",
      line: "[/ssr/] no dog: GET https://dog.ceo/api/breeds/image/random answered HTTP 503",
    },
  ])
  // The server that listens logs it, bounded, in its own log.
  expect(consoleWarn).not.toHaveBeenCalled()
})

test("answers 500 within the timeout when dog.ceo hangs", async () => {
  process.env.DOG_API_TIMEOUT_MS = "100"
  server.use(failures.hang)

  const started = performance.now()
  await expect(getServerData()).resolves.toEqual(FAILED)

  expect(performance.now() - started).toBeLessThan(2000)
  expect(consoleWarn).toHaveBeenCalledWith(expect.stringContaining("did not answer within 100 ms"))
})

test.each<[string, Failure, string]>([
  ["the network fails", "network-error", "failed"],
  ["the answer is not JSON", "not-json", "not JSON"],
  ["the answer is an HTML page", "html", "not JSON"],
  ['the answer says status "error"', "status-error", 'without status "success"'],
  ["the answer has no message", "missing-message", "not an http(s) URL"],
  ["the message is a javascript: URL", "javascript-url", "not an http(s) URL"],
])("answers 500 with no-store when %s", async (_case, failure, reason) => {
  server.use(failures[failure])

  await expect(getServerData()).resolves.toEqual(FAILED)
  expect(consoleWarn).toHaveBeenCalledWith(expect.stringContaining(reason))
})

test("answers 500 as soon as the answer grows past 8 KB, without waiting for its end", async () => {
  server.use(
    http.get(
      "*/breeds/image/random",
      () =>
        // 16 KB, and then an answer that never ends: waiting for its end would end in the timeout.
        new HttpResponse(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new Uint8Array(16 * 1024).fill(32))
            },
          }),
          { headers: { "Content-Type": "application/json" } },
        ),
    ),
  )

  await expect(getServerData()).resolves.toEqual(FAILED)
  expect(consoleWarn).toHaveBeenCalledWith(expect.stringContaining("answered with more than 8192 bytes"))
})

test.each(["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])(
  "answers %s with 405, the allowed methods and no-store, without asking the API",
  async (method) => {
    let requests = 0
    server.events.on("request:start", () => (requests += 1))

    await expect(getServerData(method)).resolves.toEqual({
      status: 405,
      headers: { Allow: "GET, HEAD", "Cache-Control": "no-store" },
      props: {},
    })
    expect(requests).toBe(0)
    server.events.removeAllListeners()
  },
)

test("answers HEAD as it answers GET", async () => {
  const result = await getServerData("HEAD")

  expect(result.status).toBeUndefined()
  expect(result.props).toEqual({ message: expect.stringContaining("/images/breeds/") })
})

test.each([
  ["fails (503)", 503],
  ["has moved (301)", 301],
])("stops asking an API that %s after five times in a row, and answers 500 at once", async (_, status) => {
  let requests = 0
  server.use(
    http.get("*/breeds/image/random", () => {
      requests += 1
      return new HttpResponse(null, { status, headers: { Location: "https://dog.example/api/" } })
    }),
  )
  for (let i = 0; i < 5; i++) await getServerData()

  await expect(getServerData()).resolves.toEqual(FAILED)
  expect(requests).toBe(5)
  expect(consoleWarn).toHaveBeenLastCalledWith(expect.stringContaining("not asked: it failed too often"))
})

test("asks the API again after a cool-down, and shows a dog once it answers", async () => {
  // Only Date is faked: the cool-down is measured with Date.now().
  jest.useFakeTimers({
    doNotFake: ["setTimeout", "clearTimeout", "setImmediate", "nextTick", "queueMicrotask"],
  })
  try {
    server.use(failures["http-500"])
    for (let i = 0; i < 5; i++) await getServerData()
    server.resetHandlers()

    await expect(getServerData()).resolves.toEqual(FAILED)
    jest.setSystemTime(Date.now() + 2000)

    await expect(getServerData()).resolves.toEqual({ props: { message: expect.any(String) } })
  } finally {
    jest.useRealTimers()
  }
})
