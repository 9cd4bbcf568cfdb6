import { breedSlug, parseBreedSlug, type Breed } from "./breed"
import { createUpstream, UpstreamError } from "./upstream/client"

// The one client for the dog API (https://dog.ceo/dog-api/): its endpoints, and the checks that every
// answer passes before a page can use it. The rest (address, timeout, size cap, kept-alive connections,
// circuit breaker) is src/upstream/client.ts's, as for any API a page asks.

const dogApi = createUpstream({
  name: "dog API",
  urlSetting: "DOG_API_URL",
  defaultUrl: "https://dog.ceo/api",
  timeoutSetting: "DOG_API_TIMEOUT_MS",
  defaultTimeoutMs: 5000,
})

// A dog is about 100 bytes of JSON and the breed list about 4 KB: far more is not the dog API's answer,
// and is refused while it is read, before it can fill memory.
const MAX_DOG_BYTES = 8 * 1024
const MAX_BREED_LIST_BYTES = 64 * 1024

// A dog picture: `message` is its URL, as the dog API calls it.
export type DogImage = { message: string }

const invalid = (message: string) => new UpstreamError(message, "dog API", "invalid")

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
    throw invalid(`GET ${path} answered without status "success"`)
  }
  return body.message
}

async function fetchDogImage(path: string): Promise<DogImage> {
  const message = successMessage(await dogApi.getJson(path, MAX_DOG_BYTES), path)
  if (!isHttpUrl(message)) throw invalid(`GET ${path} answered with a message that is not an http(s) URL`)
  return { message }
}

export function fetchRandomDog(): Promise<DogImage> {
  return fetchDogImage("/breeds/image/random")
}

// A breed the API does not know answers HTTP 404: an UpstreamError with status 404.
export function fetchBreedDog({ main, sub }: Breed): Promise<DogImage> {
  return fetchDogImage(sub ? `/breed/${main}/${sub}/images/random` : `/breed/${main}/images/random`)
}

// Every breed and sub-breed, sorted by slug. Names that would not make a valid slug are left out,
// since no page could be linked to them.
export async function fetchBreeds(): Promise<Breed[]> {
  const path = "/breeds/list/all"
  const message = successMessage(await dogApi.getJson(path, MAX_BREED_LIST_BYTES), path)
  if (!isRecord(message) || !Object.values(message).every((subs) => Array.isArray(subs))) {
    throw invalid(`GET ${path} answered with a message that is not a list of breeds`)
  }
  return Object.entries(message as Record<string, unknown[]>)
    .flatMap(([main, subs]) => (subs.length ? subs.map((sub) => `${main}-${sub}`) : [main]))
    .map(parseBreedSlug)
    .filter((breed): breed is Breed => breed !== null)
    .sort((a, b) => breedSlug(a).localeCompare(breedSlug(b)))
}
