import http from "node:http"
import https from "node:https"
import { breedSlug, parseBreedSlug, type Breed } from "./breed"
import { CircuitBreaker, CircuitOpenError } from "./circuit-breaker"

// The one client for the dog API (https://dog.ceo/dog-api/). Every call has a timeout and a cap on the
// answer's size, every answer is checked before a page can use it, and while the API keeps failing the
// client stops asking it for a moment. Whatever goes wrong becomes a DogApiError that says why.

const DEFAULT_API_URL = "https://dog.ceo/api"
const DEFAULT_TIMEOUT_MS = 5000
// A dog is about 100 bytes of JSON and the breed list about 4 KB: far more is not the dog API's answer,
// and is refused while it is read, before it can fill memory.
const MAX_DOG_BYTES = 8 * 1024
const MAX_BREED_LIST_BYTES = 64 * 1024

// A dog picture: `message` is its URL, as the dog API calls it.
export type DogImage = { message: string }

export class DogApiError extends Error {
  // `reason` is what failures of one kind have in common ("HTTP 503", "timeout"), for bounded logs;
  // `status` is the upstream HTTP status, when there was one.
  constructor(
    message: string,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = "DogApiError"
  }
}

// Read per request through globalThis: Gatsby inlines `process.env.X` into the SSR engine at
// build time, which would tie a build to the API it was built with.
function readEnv(name: string): string | undefined {
  return globalThis.process?.env[name] || undefined
}

function dogApiUrl(): string {
  return (readEnv("DOG_API_URL") ?? DEFAULT_API_URL).replace(/\/+$/, "")
}

function timeoutMs(): number {
  const value = Number(readEnv("DOG_API_TIMEOUT_MS"))
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_TIMEOUT_MS
}

// Node's own HTTP client, on agents that keep connections to the API open between requests: a
// fraction of the CPU of fetch (whose WHATWG streams and signals cost the page a large share of its
// time, see docs/benchmarks.md), as cheap as undici's request(), and one that msw can intercept in tests.
const agents = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
}

// One per process, shared by every page: after 5 failures in a row, no request asks the API for 2 s,
// then one request tries it. A 4xx (an unknown breed) is the question's fault, not the API's.
const circuit = new CircuitBreaker({
  failuresToOpen: 5,
  coolDownMs: 2000,
  isFailure: (error) => !(error instanceof DogApiError && error.status !== undefined && error.status < 500),
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
      reject(new DogApiError(`GET ${url.href} ${message}`, reason, status))
      req.destroy()
    }
    const client = url.protocol === "https:" ? https : http
    const req = client.get(url, { agent: agents[url.protocol as keyof typeof agents] }, (res) => {
      const status = res.statusCode ?? 0
      if (status < 200 || status >= 300) {
        clearTimeout(timer)
        // Drained, not read: the connection goes back to the agent for the next request.
        res.resume()
        reject(new DogApiError(`GET ${url.href} answered HTTP ${status}`, `HTTP ${status}`, status))
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
      res.on("error", (error) => fail(`failed: ${error.message}`, "network"))
    })
    // Bounds the whole exchange, body included, so that a hanging API cannot hang the page.
    const timer = setTimeout(
      () => fail(`did not answer within ${timeout} ms`, "timeout"),
      started + timeout - Date.now(),
    )
    req.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive connection that the API closed as it was reused, at the end of its idle timeout:
      // the API never saw the request, so it goes again on another connection, within the same time.
      if (!failed && req.reusedSocket && error.code === "ECONNRESET") {
        clearTimeout(timer)
        resolve(getText(url, timeout, maxBytes, started))
      } else fail(`failed: ${error.message}`, error.code ?? "network")
    })
  })
}

async function getJsonOnce(url: URL, maxBytes: number): Promise<unknown> {
  const text = await getText(url, timeoutMs(), maxBytes)
  try {
    return JSON.parse(text)
  } catch {
    throw new DogApiError(`GET ${url.href} answered with a body that is not JSON`, "not JSON")
  }
}

async function getJson(path: string, maxBytes: number): Promise<unknown> {
  const url = URL.parse(`${dogApiUrl()}${path}`)
  if (!url || !(url.protocol in agents))
    throw new DogApiError(`DOG_API_URL is not an http(s) URL: ${dogApiUrl()}`, "DOG_API_URL")
  try {
    return await circuit.run(() => getJsonOnce(url, maxBytes))
  } catch (error) {
    if (error instanceof CircuitOpenError)
      throw new DogApiError(`GET ${url.href} ${error.message}`, "circuit open")
    throw error
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null
}

// Only http(s) URLs may reach an <img src>: never javascript:, data: or a relative path.
function isHttpUrl(value: unknown): value is string {
  if (typeof value !== "string") return false
  try {
    const { protocol } = new URL(value)
    return protocol === "https:" || protocol === "http:"
  } catch {
    return false
  }
}

// The dog API wraps every answer as { status: "success", message: … }.
function successMessage(body: unknown, path: string): unknown {
  if (!isRecord(body) || body.status !== "success") {
    throw new DogApiError(`GET ${path} answered without status "success"`, "invalid")
  }
  return body.message
}

async function fetchDogImage(path: string): Promise<DogImage> {
  const message = successMessage(await getJson(path, MAX_DOG_BYTES), path)
  if (!isHttpUrl(message))
    throw new DogApiError(`GET ${path} answered with a message that is not an http(s) URL`, "invalid")
  return { message }
}

export function fetchRandomDog(): Promise<DogImage> {
  return fetchDogImage("/breeds/image/random")
}

// A breed the API does not know answers HTTP 404: a DogApiError with status 404.
export function fetchBreedDog({ main, sub }: Breed): Promise<DogImage> {
  return fetchDogImage(sub ? `/breed/${main}/${sub}/images/random` : `/breed/${main}/images/random`)
}

// Every breed and sub-breed, sorted by slug. Names that would not make a valid slug are left out,
// since no page could be linked to them.
export async function fetchBreeds(): Promise<Breed[]> {
  const path = "/breeds/list/all"
  const message = successMessage(await getJson(path, MAX_BREED_LIST_BYTES), path)
  if (!isRecord(message) || !Object.values(message).every((subs) => Array.isArray(subs))) {
    throw new DogApiError(`GET ${path} answered with a message that is not a list of breeds`, "invalid")
  }
  return Object.entries(message as Record<string, unknown[]>)
    .flatMap(([main, subs]) => (subs.length ? subs.map((sub) => `${main}-${sub}`) : [main]))
    .map(parseBreedSlug)
    .filter((breed): breed is Breed => breed !== null)
    .sort((a, b) => breedSlug(a).localeCompare(breedSlug(b)))
}
