import path from "node:path"
import type { GetServerDataProps } from "gatsby"
import { http, HttpResponse } from "msw"
import { failures } from "./mocks/handlers"
import { hostileSlugs } from "./data/hostile-slugs"
import { server } from "./mocks/node"

import * as breedPage from "../src/pages/breeds/[breed]"
import * as breedsPage from "../src/pages/breeds/index"

const NO_STORE = { "Cache-Control": "no-store" }

// getServerData reads only the method and params; Gatsby passes more, which these tests don't need.
function visit(breed: string, method = "GET") {
  return breedPage.getServerData({ method, params: { breed } } as unknown as GetServerDataProps)
}

function getBreeds(method = "GET") {
  return breedsPage.getServerData({ method } as GetServerDataProps)
}

let requests: string[]

// Each test starts with the dog API's circuit breaker closed and nothing logged (jest.setup.ts).
beforeEach(() => {
  requests = []
  server.events.on("request:start", ({ request }) => {
    requests.push(request.url)
  })
  // Failures log a line; the /ssr/ tests check it, here it would only clutter the output.
  jest.spyOn(console, "warn").mockImplementation(() => {})
})

afterEach(() => {
  server.events.removeAllListeners()
  jest.restoreAllMocks()
})

test("lists every breed and sub-breed, sorted", async () => {
  const result = await getBreeds()

  expect(result.props).toEqual({
    breeds: [
      { main: "hound", sub: "afghan" },
      { main: "hound", sub: "basset" },
      { main: "husky" },
      { main: "pug" },
      { main: "retriever", sub: "golden" },
    ],
  })
  expect(requests).toEqual(["https://dog.ceo/api/breeds/list/all"])
})

test("lets browsers and CDNs cache the breed list", async () => {
  const result = await getBreeds()

  expect(result.status).toBeUndefined()
  expect(result.headers).toEqual({
    "Cache-Control": "public, max-age=3600, s-maxage=86400, stale-while-revalidate=604800",
  })
})

test("leaves out breed names that could not be linked to", async () => {
  server.use(
    http.get("*/breeds/list/all", () =>
      HttpResponse.json({
        message: { husky: [], "<script>": [], hound: ["afghan", "Bad Sub", 7] },
        status: "success",
      }),
    ),
  )

  const result = await getBreeds()

  expect(result.props).toEqual({ breeds: [{ main: "hound", sub: "afghan" }, { main: "husky" }] })
})

test.each([
  ["dog.ceo fails", failures["http-500"]],
  ["the answer is not JSON", failures["not-json"]],
  [
    "the list is not a list",
    http.get("*/breeds/list/all", () => HttpResponse.json({ message: "x", status: "success" })),
  ],
  [
    "a breed's sub-breeds are not a list",
    http.get("*/breeds/list/all", () => HttpResponse.json({ message: { husky: "x" }, status: "success" })),
  ],
])("the breed list answers 500 with no-store when %s", async (_case, failure) => {
  server.use(failure)

  await expect(getBreeds()).resolves.toEqual({ status: 500, headers: NO_STORE, props: {} })
})

test("shows a dog of the breed asked for", async () => {
  const result = await visit("hound-afghan")

  expect(result).toEqual({
    props: {
      breed: { main: "hound", sub: "afghan" },
      message: expect.stringContaining("/breeds/hound-afghan/"),
    },
  })
  expect(requests).toEqual(["https://dog.ceo/api/breed/hound/afghan/images/random"])
})

test("gives the dog in sizes and formats where the host resizes pictures", async () => {
  process.env.DOG_IMAGE_URLS = "https://dog.ceo/images/breeds/*"
  const gatsby = globalThis as { __GATSBY?: object }
  gatsby.__GATSBY = {
    imageCDNUrlGeneratorModulePath: path.join(__dirname, "mocks/image-cdn-url-generator.js"),
  }
  try {
    const result = await visit("hound-afghan")

    expect(result.props).toMatchObject({
      message: expect.stringContaining("/breeds/hound-afghan/"),
      picture: { src: expect.stringMatching(/^\/cdn\/jpg\/640\//) },
    })
  } finally {
    delete gatsby.__GATSBY
    delete process.env.DOG_IMAGE_URLS
  }
})

test("asks for a main breed's pictures when the slug has no sub-breed", async () => {
  await visit("husky")

  expect(requests).toEqual(["https://dog.ceo/api/breed/husky/images/random"])
})

test("answers 404 for a breed dog.ceo does not know", async () => {
  await expect(visit("unicorn")).resolves.toEqual({ status: 404, headers: NO_STORE, props: { refused: 404 } })
})

test("answers 404 for a sub-breed dog.ceo does not know", async () => {
  await expect(visit("hound-unicorn")).resolves.toEqual({
    status: 404,
    headers: NO_STORE,
    props: { refused: 404 },
  })
})

test.each(hostileSlugs)("answers 400 for a slug with %s, without asking the API", async (_case, slug) => {
  await expect(visit(slug)).resolves.toEqual({ status: 400, headers: NO_STORE, props: { refused: 400 } })
  expect(requests).toEqual([])
})

test("answers 400 when there is no slug at all", async () => {
  await expect(breedPage.getServerData({ method: "GET" } as GetServerDataProps)).resolves.toEqual({
    status: 400,
    headers: NO_STORE,
    props: { refused: 400 },
  })
  expect(requests).toEqual([])
})

test.each([
  ["dog.ceo fails", failures["http-500"]],
  ["dog.ceo hangs past the timeout", failures.hang],
  ["the answer is a javascript: URL", failures["javascript-url"]],
])("a breed answers 500 with no-store when %s", async (_case, failure) => {
  process.env.DOG_API_TIMEOUT_MS = "100"
  server.use(failure)

  try {
    await expect(visit("husky")).resolves.toEqual({ status: 500, headers: NO_STORE, props: {} })
  } finally {
    delete process.env.DOG_API_TIMEOUT_MS
  }
})

test("the breed list answers POST with 405 and the allowed methods, without asking the API", async () => {
  await expect(getBreeds("POST")).resolves.toEqual({
    status: 405,
    headers: { Allow: "GET, HEAD", ...NO_STORE },
    props: {},
  })
  expect(requests).toEqual([])
})

test("a breed answers DELETE with 405 and the allowed methods, without asking the API", async () => {
  await expect(visit("husky", "DELETE")).resolves.toEqual({
    status: 405,
    headers: { Allow: "GET, HEAD", ...NO_STORE },
    props: {},
  })
  expect(requests).toEqual([])
})
