import diagnosticsChannel from "node:diagnostics_channel"
import http from "node:http"
import https from "node:https"
import { CircuitBreaker, CircuitOpenError } from "./circuit-breaker"

// A client for one JSON API that a page asks at request time, with every protection a server-rendered
// page needs: its address and timeout read per request from settings, a timeout on the whole exchange,
// a cap on the answer's size, kept-alive connections (and one retry when the API closed a reused one),
// and a circuit breaker of its own, so that while the API keeps failing the pages stop asking it for a
// moment. Whatever goes wrong becomes an UpstreamError that says why. src/dog-api.ts is one; see the
// README's "Add your own SSR page" for another.

export class UpstreamError extends Error {
  // `reason` is what failures of one kind have in common ("HTTP 503", "timeout"), for bounded logs;
  // `upstream` names the API ("dog API"); `status` is the HTTP status, when there was one.
  constructor(
    message: string,
    readonly upstream: string,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = "UpstreamError"
  }
}

export type UpstreamOptions = {
  // How logs and errors name it: "dog API".
  name: string
  // The settings that may change its address and timeout (DOG_API_URL, DOG_API_TIMEOUT_MS), and what
  // holds without them.
  urlSetting: string
  defaultUrl: string
  timeoutSetting: string
  defaultTimeoutMs: number
  // The breaker: after this many failures in a row, no request asks the API for coolDownMs; then one
  // request tries it.
  failuresToOpen?: number
  coolDownMs?: number
}

export type Upstream = {
  // The JSON that GET <address><path> answers with 2xx, in at most maxBytes.
  getJson(path: string, maxBytes: number): Promise<unknown>
}

// Each call's time, published for whoever listens (gatsby-adapter-node's Node server adds it to the
// page's Server-Timing); without a listener, nothing is published.
const upstreamTimings = diagnosticsChannel.channel("gatsby-adapter-node:upstream-timing")
// An upstream found back after it failed, published for whoever listens: gatsby-adapter-node's workers
// tell each other, and a worker hears on the second channel that another found one back, so that its
// pages stop failing fast on an upstream that answers again (each process has its own breakers).
const upstreamRecovered = diagnosticsChannel.channel("gatsby-adapter-node:upstream-recovered")
const upstreamRecoveredElsewhere = "gatsby-adapter-node:upstream-recovered-elsewhere"

// Every upstream's breaker, so that a test can start with all of them closed (resetUpstreams()).
const breakers: CircuitBreaker[] = []

// Read per request through globalThis: Gatsby inlines `process.env.X` into the SSR engine at build
// time, which would tie a build to the API it was built with.
function readEnv(name: string): string | undefined {
  return globalThis.process?.env[name] || undefined
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const { name, urlSetting, defaultUrl, timeoutSetting, defaultTimeoutMs } = options
  const baseUrl = () => (readEnv(urlSetting) ?? defaultUrl).replace(/\/+$/, "")
  const timeoutMs = () => {
    const value = Number(readEnv(timeoutSetting))
    return Number.isInteger(value) && value > 0 ? value : defaultTimeoutMs
  }
  const error = (message: string, reason: string, status?: number) =>
    new UpstreamError(message, name, reason, status)

  // Node's own HTTP client, on agents that keep connections to the API open between requests: a
  // fraction of the CPU of fetch (whose WHATWG streams and signals cost a page a large share of its
  // time, see docs/benchmarks.md), and one that msw can intercept in tests.
  const agents = {
    "http:": new http.Agent({ keepAlive: true }),
    "https:": new https.Agent({ keepAlive: true }),
  }

  // A 4xx (an unknown breed) is the question's fault, not the API's; anything else counts, a redirect
  // included: an API that moved answers nothing a page can use until its address is changed.
  const circuit = new CircuitBreaker({
    failuresToOpen: options.failuresToOpen ?? 5,
    coolDownMs: options.coolDownMs ?? 2000,
    onRecover: () => {
      if (upstreamRecovered.hasSubscribers) upstreamRecovered.publish({ api: name })
    },
    isFailure: (thrown) =>
      !(
        thrown instanceof UpstreamError &&
        thrown.status !== undefined &&
        thrown.status >= 400 &&
        thrown.status < 500
      ),
  })
  breakers.push(circuit)
  diagnosticsChannel.subscribe(upstreamRecoveredElsewhere, (message) => {
    if ((message as { api?: unknown } | undefined)?.api === name) circuit.close()
  })

  // The answer's body as text, if the API answers 2xx within `timeout` ms of `started` with at most
  // `maxBytes`.
  function getText(url: URL, timeout: number, maxBytes: number, started = Date.now()): Promise<string> {
    return new Promise((resolve, reject) => {
      // Once this attempt has failed, the reset that its own destroy() raises is not the API's doing.
      let failed = false
      const fail = (message: string, reason: string, status?: number) => {
        failed = true
        clearTimeout(timer)
        reject(error(`GET ${url.href} ${message}`, reason, status))
        req.destroy()
      }
      const client = url.protocol === "https:" ? https : http
      const req = client.get(url, { agent: agents[url.protocol as keyof typeof agents] }, (res) => {
        const status = res.statusCode ?? 0
        if (status < 200 || status >= 300) {
          clearTimeout(timer)
          // Drained, not read: the connection goes back to the agent for the next request.
          res.resume()
          reject(error(`GET ${url.href} answered HTTP ${status}`, `HTTP ${status}`, status))
          return
        }
        const chunks: Buffer[] = []
        let size = 0
        res.on("data", (chunk: Buffer) => {
          size += chunk.length
          // Refused while it is read: an endless or huge answer never fills memory.
          if (size > maxBytes) fail(`answered with more than ${maxBytes} bytes`, "too large")
          else chunks.push(chunk)
        })
        res.on("end", () => {
          clearTimeout(timer)
          resolve(Buffer.concat(chunks, size).toString("utf8"))
        })
        res.on("error", (cause) => fail(`failed: ${cause.message}`, "network"))
      })
      // Bounds the whole exchange, body included, so that a hanging API cannot hang the page.
      const timer = setTimeout(
        () => fail(`did not answer within ${timeout} ms`, "timeout"),
        started + timeout - Date.now(),
      )
      req.on("error", (cause: NodeJS.ErrnoException) => {
        // A kept-alive connection that the API closed as it was reused, at the end of its idle
        // timeout: the API never saw the request, so it goes again on another connection, within the
        // same time.
        if (!failed && req.reusedSocket && cause.code === "ECONNRESET") {
          clearTimeout(timer)
          resolve(getText(url, timeout, maxBytes, started))
        } else fail(`failed: ${cause.message}`, cause.code ?? "network")
      })
    })
  }

  async function getJsonOnce(url: URL, maxBytes: number): Promise<unknown> {
    const started = performance.now()
    let text: string
    try {
      text = await getText(url, timeoutMs(), maxBytes)
    } finally {
      // For a server that shows where a page's time went: gatsby-adapter-node's Server-Timing.
      if (upstreamTimings.hasSubscribers)
        upstreamTimings.publish({ api: name, ms: performance.now() - started })
    }
    try {
      return JSON.parse(text)
    } catch {
      throw error(`GET ${url.href} answered with a body that is not JSON`, "not JSON")
    }
  }

  return {
    async getJson(path, maxBytes) {
      const url = URL.parse(`${baseUrl()}${path}`)
      if (!url || !(url.protocol in agents))
        throw error(`${urlSetting} is not an http(s) URL: ${baseUrl()}`, urlSetting)
      try {
        return await circuit.run(() => getJsonOnce(url, maxBytes))
      } catch (thrown) {
        if (thrown instanceof CircuitOpenError)
          throw error(`GET ${url.href} ${thrown.message}`, "circuit open")
        throw thrown
      }
    },
  }
}

// For tests: every upstream's breaker closed, as in a fresh process (jest.setup.ts does it before
// each test, with the failure log's resetFailureLog()).
export function resetUpstreams(): void {
  for (const circuit of breakers) circuit.close()
}
