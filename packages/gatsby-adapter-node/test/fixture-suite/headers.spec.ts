import { expect, test, type Configuration } from "../sites"

// Mirrors Gatsby's adapter suite: headers.cy.ts; and gatsby-config's headers on what Gatsby Functions
// answer, which Gatsby's routes do not carry.

const security = {
  "x-xss-protection": "1; mode=block",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
}
const revalidate = { ...security, "cache-control": "public, max-age=0, must-revalidate" }
const immutable = { ...security, "cache-control": "public, max-age=31536000, immutable" }

function expectHeaders(headers: Record<string, string>, expected: Record<string, string>, what: string) {
  for (const [name, value] of Object.entries(expected)) expect(headers[name], `${what}: ${name}`).toBe(value)
}

// The files that a visit to a page asks for, by kind, with their headers.
async function visit(page: import("@playwright/test").Page, address: string) {
  const files: Array<{ url: string; headers: Record<string, string> }> = []
  page.on("response", (response) => files.push({ url: response.url(), headers: response.headers() }))
  const response = await page.goto(address)
  await page.waitForLoadState("networkidle")
  const of = (pattern: RegExp) => files.filter(({ url }) => pattern.test(new URL(url).pathname))
  return { page: response!.headers(), of }
}

const dataFiles = (c: Configuration) =>
  [
    [new RegExp(`^${c.pathPrefix}/page-data/app-data\\.json$`), "app-data"],
    [new RegExp(`^${c.pathPrefix}/slice-data/.+\\.json$`), "slice-data"],
  ] as const

test("the home page, its data and its scripts carry Gatsby's headers and the site's own", async ({
  page,
  at,
  configuration,
}) => {
  const { page: headers, of } = await visit(page, at("/"))

  expectHeaders(headers, { ...revalidate, "x-custom-header": "for every path" }, "the page")
  for (const [pattern, what] of [
    ...dataFiles(configuration),
    [/\/page-data\/index\/page-data\.json$/, "page-data"],
  ] as const) {
    expect(of(pattern).length, what).toBeGreaterThan(0)
    for (const file of of(pattern)) expectHeaders(file.headers, revalidate, what)
  }
  expect(of(/\.js$/).length).toBeGreaterThan(0)
  for (const file of [...of(/\.js$/), ...of(/\/static\/mark-.+\.svg$/)])
    expectHeaders(file.headers, immutable, file.url)
})

test("a server-rendered page gets gatsby-config's headers, and getServerData's own win", async ({
  page,
  at,
}) => {
  const { page: headers } = await visit(page, at("/routes/ssr/static"))

  expectHeaders(
    headers,
    {
      ...security,
      "x-custom-header": "for every path",
      "x-ssr-header": "from config",
      "x-ssr-header-getserverdata": "from getServerData",
      "x-ssr-header-overwrite": "getServerData",
    },
    "the page",
  )
})

test("a deferred page gets gatsby-config's headers", async ({ page, at }) => {
  const { page: headers } = await visit(page, at("/routes/dsg/static"))

  expectHeaders(
    headers,
    { ...security, "x-custom-header": "for every path", "x-dsg-header": "from config" },
    "the page",
  )
})

test("a Gatsby Function's answer gets gatsby-config's headers for its path", async ({
  request,
  configuration,
}) => {
  const response = await request.get(`${configuration.pathPrefix}/api/param/dune`)

  expectHeaders(
    response.headers(),
    { ...security, "x-custom-header": "for every path", "x-function-header": "from config" },
    "the function",
  )
})
