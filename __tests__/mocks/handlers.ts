import { delay, http, HttpResponse } from "msw"

// The dog API as msw handlers, for the address it is at: the unit tests' mock server answers for
// dog.ceo's (handlers, failures), the local stand-in API (stand-in-api/server.ts) for its own. Scoped to
// that address, so that a fork's handlers for its own API, on another host, never meet these.

export const DOG_CEO_API = "https://dog.ceo/api"

// A few dog.ceo breeds, each with its sub-breeds.
export const breeds: Record<string, string[]> = {
  hound: ["afghan", "basset"],
  husky: [],
  pug: [],
  retriever: ["golden"],
}

// Slugs as dog.ceo's image URLs spell them: main or main-sub.
const slugs = Object.entries(breeds).flatMap(([main, subs]) =>
  subs.length ? subs.map((sub) => `${main}-${sub}`) : [main],
)

// Images live beside the API, at /images/breeds/<slug>/<n>.jpg, so that the stand-in serves them too:
// JPEGs, as dog.ceo's are, which a server can resize.
function imageUrl(request: Request, slug: string, n: number): string {
  return new URL(`/images/breeds/${slug}/${n}.jpg`, request.url).href
}

// Counting, not random, so that two requests in a row never get the same dog.
let served = 0

function nextImage(request: Request, choices = slugs): string {
  served += 1
  return imageUrl(request, choices[served % choices.length], served)
}

// A dog drawn as a small SVG, coloured by its number, so that the page shows a real image offline
// (made a JPEG by sharp when asked for).
function dogSvg(slug: string, n: number): string {
  const hue = (n * 47) % 360
  return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480" viewBox="0 0 640 480">
<rect width="640" height="480" fill="hsl(${hue} 60% 85%)"/>
<ellipse cx="235" cy="200" rx="45" ry="95" fill="hsl(${hue} 35% 35%)" transform="rotate(-18 235 200)"/>
<ellipse cx="405" cy="200" rx="45" ry="95" fill="hsl(${hue} 35% 35%)" transform="rotate(18 405 200)"/>
<circle cx="320" cy="250" r="120" fill="hsl(${hue} 45% 65%)"/>
<circle cx="275" cy="225" r="14" fill="#222"/><circle cx="365" cy="225" r="14" fill="#222"/>
<ellipse cx="320" cy="290" rx="30" ry="22" fill="#222"/>
<text x="320" y="440" font-family="sans-serif" font-size="32" text-anchor="middle" fill="#222">${slug} #${n}</text>
</svg>`
}

// As dog.ceo answers for a breed it does not know.
function unknownBreed(which: "main" | "sub") {
  return HttpResponse.json(
    { status: "error", message: `Breed not found (${which} breed does not exist)`, code: 404 },
    { status: 404 },
  )
}

export const dogApiHandlers = (API = DOG_CEO_API) => [
  http.get(`${API}/breeds/image/random`, ({ request }) =>
    HttpResponse.json({ message: nextImage(request), status: "success" }),
  ),
  http.get(`${API}/breeds/list/all`, () => HttpResponse.json({ message: breeds, status: "success" })),
  http.get(`${API}/breed/:main/images/random`, ({ request, params }) => {
    const main = String(params.main)
    if (!(main in breeds)) return unknownBreed("main")
    // Like dog.ceo, a main breed's pictures include its sub-breeds'.
    const choices = slugs.filter((slug) => slug === main || slug.startsWith(`${main}-`))
    return HttpResponse.json({ message: nextImage(request, choices), status: "success" })
  }),
  http.get(`${API}/breed/:main/:sub/images/random`, ({ request, params }) => {
    const main = String(params.main)
    const sub = String(params.sub)
    if (!(main in breeds)) return unknownBreed("main")
    if (!breeds[main].includes(sub)) return unknownBreed("sub")
    return HttpResponse.json({ message: nextImage(request, [`${main}-${sub}`]), status: "success" })
  }),
  // Images live beside the API, on its host.
  http.get(`${new URL(API).origin}/images/breeds/:slug/:file`, async ({ params }) => {
    const slug = String(params.slug)
    const n = Number.parseInt(String(params.file), 10)
    if (!slugs.includes(slug) || !Number.isInteger(n)) return new HttpResponse("Not found", { status: 404 })
    const { default: sharp } = await import("sharp")
    const jpeg = await sharp(Buffer.from(dogSvg(slug, n)))
      .jpeg({ quality: 80 })
      .toBuffer()
    return new HttpResponse(new Uint8Array(jpeg), {
      headers: { "Content-Type": "image/jpeg", "Cache-Control": "public, max-age=31536000, immutable" },
    })
  }),
]

// Each way the dog API can fail, as one handler for every API path. A test picks one with
// server.use(failures[...]); the stand-in API switches to one by name.
export const dogApiFailures = (API = DOG_CEO_API) => ({
  "http-500": http.get(`${API}/*`, () => new HttpResponse("Internal Server Error", { status: 500 })),
  "network-error": http.get(`${API}/*`, () => HttpResponse.error()),
  hang: http.get(`${API}/*`, async () => {
    await delay("infinite")
    return new HttpResponse(null)
  }),
  "not-json": http.get(
    `${API}/*`,
    () => new HttpResponse('{"message": "https://', { headers: { "Content-Type": "application/json" } }),
  ),
  html: http.get(`${API}/*`, () =>
    HttpResponse.html("<!doctype html><title>Bad gateway</title><h1>Oops</h1>"),
  ),
  "status-error": http.get(`${API}/*`, () =>
    HttpResponse.json({ message: "Something broke", status: "error" }),
  ),
  "missing-message": http.get(`${API}/*`, () => HttpResponse.json({ status: "success" })),
  "javascript-url": http.get(`${API}/*`, () =>
    HttpResponse.json({ message: "javascript:alert(document.cookie)", status: "success" }),
  ),
  // A dog, padded to 1 MB: far more than any answer of the dog API.
  "too-large": http.get(`${API}/*`, ({ request }) =>
    HttpResponse.json({ message: nextImage(request), status: "success", padding: "x".repeat(1024 * 1024) }),
  ),
})

// dog.ceo's, for the unit tests.
export const handlers = dogApiHandlers()
export const failures = dogApiFailures()

export type Failure = keyof typeof failures
