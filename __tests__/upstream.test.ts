import diagnosticsChannel from "node:diagnostics_channel"
import { delay, http, HttpResponse } from "msw"
import { failures } from "./mocks/handlers"
import { server } from "./mocks/node"
import { fetchRandomDog } from "../src/dog-api"
import { createUpstream, UpstreamError } from "../src/upstream/client"

// A second API, set up in the few lines that the README's "Add your own SSR page" shows: it gets every
// protection that the dog API has, with none of the dog API's code copied.
const QUOTES = "https://quotes.example/api"
const quoteApi = createUpstream({
  name: "quote API",
  urlSetting: "QUOTE_API_URL",
  defaultUrl: QUOTES,
  timeoutSetting: "QUOTE_API_TIMEOUT_MS",
  defaultTimeoutMs: 5000,
})
const getQuote = () => quoteApi.getJson("/quote", 1024)

let asked: number
beforeEach(() => {
  asked = 0
  server.events.on("request:start", ({ request }) => {
    if (request.url.startsWith("https://quotes.example/")) asked++
  })
})
afterEach(() => {
  server.events.removeAllListeners()
  delete process.env.QUOTE_API_URL
  delete process.env.QUOTE_API_TIMEOUT_MS
  jest.restoreAllMocks()
})

const answers = (response: () => Response | Promise<Response>, url = `${QUOTES}/quote`) =>
  server.use(http.get(url, response))

test("gets the JSON that the second API answers", async () => {
  answers(() => HttpResponse.json({ text: "Woof." }))

  await expect(getQuote()).resolves.toEqual({ text: "Woof." })
})

test("tells a server that listens how long each call took (the Node server's Server-Timing)", async () => {
  answers(() => HttpResponse.json({ text: "Woof." }))
  const timed: Array<{ api: string; ms: number }> = []
  const listen = (message: unknown) => timed.push(message as { api: string; ms: number })
  diagnosticsChannel.subscribe("gatsby-adapter-node:upstream-timing", listen)

  try {
    await getQuote()
  } finally {
    diagnosticsChannel.unsubscribe("gatsby-adapter-node:upstream-timing", listen)
  }

  expect(timed).toEqual([{ api: "quote API", ms: expect.any(Number) }])
})

test("asks the address that its own setting names, read at request time", async () => {
  process.env.QUOTE_API_URL = "http://127.0.0.1:4998/api/"
  answers(() => HttpResponse.json({ text: "Here." }), "http://127.0.0.1:4998/api/quote")

  await expect(getQuote()).resolves.toEqual({ text: "Here." })
})

test("gives up on a second API that hangs, after its own timeout setting", async () => {
  process.env.QUOTE_API_TIMEOUT_MS = "50"
  answers(async () => {
    await delay("infinite")
    return HttpResponse.json({})
  })

  await expect(getQuote()).rejects.toMatchObject({ upstream: "quote API", reason: "timeout" })
})

test("refuses an answer over the size cap that the caller gave", async () => {
  answers(() => HttpResponse.json({ text: "x".repeat(2048) }))

  await expect(getQuote()).rejects.toMatchObject({ reason: "too large" })
})

test("refuses an answer that is not JSON", async () => {
  answers(() => HttpResponse.html("<h1>Bad gateway</h1>"))

  await expect(getQuote()).rejects.toMatchObject({ reason: "not JSON" })
})

test("stops asking a second API that keeps redirecting: a redirect is the API's failure", async () => {
  answers(() => new HttpResponse(null, { status: 301, headers: { Location: "https://elsewhere.example/" } }))

  for (let i = 0; i < 20; i++) await getQuote().catch(() => {})

  expect(asked).toBe(5)
  await expect(getQuote()).rejects.toMatchObject({ reason: "circuit open" })
})

test("tells a server that listens when the API answers again after its breaker opened (the Node server's workers)", async () => {
  const flaky = createUpstream({
    name: "flaky API",
    urlSetting: "FLAKY_API_URL",
    defaultUrl: QUOTES,
    timeoutSetting: "FLAKY_API_TIMEOUT_MS",
    defaultTimeoutMs: 5000,
    coolDownMs: 0,
  })
  answers(() => new HttpResponse("down", { status: 503 }))
  for (let i = 0; i < 5; i++) await flaky.getJson("/quote", 1024).catch(() => {})
  const recovered: unknown[] = []
  const listen = (message: unknown) => recovered.push(message)
  diagnosticsChannel.subscribe("gatsby-adapter-node:upstream-recovered", listen)
  answers(() => HttpResponse.json({ text: "Back." }))

  try {
    await flaky.getJson("/quote", 1024)
    await flaky.getJson("/quote", 1024)
  } finally {
    diagnosticsChannel.unsubscribe("gatsby-adapter-node:upstream-recovered", listen)
  }

  expect(recovered).toEqual([{ api: "flaky API" }])
})

test("asks the API again at once when another process found it back, though its own breaker is open", async () => {
  answers(() => new HttpResponse("down", { status: 503 }))
  for (let i = 0; i < 5; i++) await getQuote().catch(() => {})
  answers(() => HttpResponse.json({ text: "Back." }))
  await expect(getQuote()).rejects.toMatchObject({ reason: "circuit open" })

  diagnosticsChannel.channel("gatsby-adapter-node:upstream-recovered-elsewhere").publish({ api: "quote API" })

  await expect(getQuote()).resolves.toEqual({ text: "Back." })
})

test("keeps asking when the question was wrong (4xx): that is not the API's failure", async () => {
  answers(() => HttpResponse.json({ error: "no such quote" }, { status: 404 }))

  for (let i = 0; i < 20; i++) await getQuote().catch(() => {})

  expect(asked).toBe(20)
})

test("has a breaker of its own: the dog API failing does not stop the second API", async () => {
  jest.spyOn(console, "warn").mockImplementation(() => {})
  server.use(failures["http-500"])
  for (let i = 0; i < 10; i++) await fetchRandomDog().catch(() => {})
  answers(() => HttpResponse.json({ text: "Still here." }))

  await expect(fetchRandomDog()).rejects.toMatchObject({ upstream: "dog API", reason: "circuit open" })
  await expect(getQuote()).resolves.toEqual({ text: "Still here." })
})

test("says which API failed and why, as an UpstreamError", async () => {
  answers(() => new HttpResponse("down", { status: 503 }))

  const error = await getQuote().catch((thrown: unknown) => thrown)

  expect(error).toBeInstanceOf(UpstreamError)
  expect(error).toMatchObject({
    upstream: "quote API",
    reason: "HTTP 503",
    status: 503,
    message: "GET https://quotes.example/api/quote answered HTTP 503",
  })
})
