import { breedSlug, parseBreedSlug, type Breed } from "./breed"

// The one client for the dog API (https://dog.ceo/dog-api/). Every call has a timeout,
// and every answer is checked before a page can use it: whatever goes wrong becomes a
// DogApiError whose message says why, for the server log.

const DEFAULT_API_URL = "https://dog.ceo/api"
const DEFAULT_TIMEOUT_MS = 5000

// A dog picture: `message` is its URL, as the dog API calls it.
export type DogImage = { message: string }

export class DogApiError extends Error {
  // `status` is the upstream HTTP status, when there was one.
  constructor(
    message: string,
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

async function getJson(path: string): Promise<unknown> {
  const url = `${dogApiUrl()}${path}`
  const timeout = timeoutMs()
  // Bounds the whole exchange, body included, so that a hanging API cannot hang the page.
  const signal = AbortSignal.timeout(timeout)
  let text: string
  try {
    // Node's own fetch: in the SSR engine Gatsby's bundler swaps a bare `fetch` for node-fetch 2,
    // which would make the site run another fetch than the tests do.
    const res = await globalThis.fetch(url, { signal })
    if (!res.ok) {
      // Frees the connection for the next request, without waiting for a body nobody reads.
      res.body?.cancel().catch(() => {})
      throw new DogApiError(`GET ${url} answered HTTP ${res.status}`, res.status)
    }
    text = await res.text()
  } catch (error) {
    if (error instanceof DogApiError) throw error
    if (signal.aborted) throw new DogApiError(`GET ${url} did not answer within ${timeout} ms`)
    const { message, cause } = error as { message?: string; cause?: { message?: string } }
    throw new DogApiError(`GET ${url} failed: ${cause?.message ?? message ?? String(error)}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new DogApiError(`GET ${url} answered with a body that is not JSON`)
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
    throw new DogApiError(`GET ${path} answered without status "success"`)
  }
  return body.message
}

async function fetchDogImage(path: string): Promise<DogImage> {
  const message = successMessage(await getJson(path), path)
  if (!isHttpUrl(message))
    throw new DogApiError(`GET ${path} answered with a message that is not an http(s) URL`)
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
  const message = successMessage(await getJson(path), path)
  if (!isRecord(message) || !Object.values(message).every((subs) => Array.isArray(subs))) {
    throw new DogApiError(`GET ${path} answered with a message that is not a list of breeds`)
  }
  return Object.entries(message as Record<string, unknown[]>)
    .flatMap(([main, subs]) => (subs.length ? subs.map((sub) => `${main}-${sub}`) : [main]))
    .map(parseBreedSlug)
    .filter((breed): breed is Breed => breed !== null)
    .sort((a, b) => breedSlug(a).localeCompare(breedSlug(b)))
}
