import type { Page, Response } from "@playwright/test"
import { expect, test, type Configuration } from "../sites"

// Mirrors Gatsby's adapter suite: headers.cy.ts; and gatsby-config's headers on what Gatsby Functions
// answer, which Gatsby's routes do not carry. Gatsby's suite keeps the browser from caching; this one
// runs each page's test twice: a first visit, and a second one in the same browser, which revalidates
// what it kept (If-None-Match) and gets 304s. A browser updates its copy's headers from a 304, so a
// 304 must carry them too. Chromium reports a revalidated answer with its copy's status (200) and its
// copy's headers merged with the 304's (headers()); allHeaders() gives the headers as sent, which
// Cypress's intercept in Gatsby's suite sees, and the If-None-Match its request sent tells it apart.

const security = {
  "x-xss-protection": "1; mode=block",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
  "x-frame-options": "DENY",
}
const revalidate = { ...security, "cache-control": "public, max-age=0, must-revalidate" }
const immutable = { ...security, "cache-control": "public, max-age=31536000, immutable" }

type Seen = { url: string; revalidated: boolean; headers: Record<string, string> }

function expectHeaders(seen: Seen, expected: Record<string, string>, what: string) {
  for (const [name, value] of Object.entries(expected))
    expect(seen.headers[name], `${what}${seen.revalidated ? " (revalidated)" : ""}: ${name}`).toBe(value)
}

async function seen(response: Response): Promise<Seen> {
  const revalidated = "if-none-match" in (await response.request().allHeaders())
  return { url: response.url(), revalidated, headers: await response.allHeaders() }
}

// The answers a visit to a page gets; on a second visit, those it gets once it has been there.
async function visit(page: Page, address: string, second: boolean) {
  if (second) {
    await page.goto(address)
    await page.waitForLoadState("networkidle")
  }
  const answers: Array<Promise<Seen>> = []
  page.on("response", (response) => answers.push(seen(response)))
  const response = await page.goto(address)
  await page.waitForLoadState("networkidle")
  const all = await Promise.all(answers)
  return {
    page: await seen(response!),
    of: (pattern: RegExp) => all.filter(({ url }) => pattern.test(new URL(url).pathname)),
  }
}

// The files a visit fetches besides the page: its data, each with revalidate's headers, and its
// scripts and images, each with immutable's. Data that a page lacks is left out: a server-rendered
// page carries its page-data; only the home page has the footer Slice and its static query.
function expectFiles(
  { of }: Awaited<ReturnType<typeof visit>>,
  { pathPrefix }: Configuration,
  data: Array<"app-data" | "page-data" | "slice-data" | "static query results">,
) {
  const patterns = {
    "app-data": new RegExp(`^${pathPrefix}/page-data/app-data\\.json$`),
    "page-data": new RegExp(`^${pathPrefix}/page-data/.+/page-data\\.json$`),
    "slice-data": new RegExp(`^${pathPrefix}/slice-data/.+\\.json$`),
    "static query results": new RegExp(`^${pathPrefix}/page-data/sq/d/\\d+\\.json$`),
  }
  for (const what of data) {
    expect(of(patterns[what]).length, what).toBeGreaterThan(0)
    for (const file of of(patterns[what])) expectHeaders(file, revalidate, what)
  }
  expect(of(/\.js$/).length).toBeGreaterThan(0)
  for (const file of [...of(/\.js$/), ...of(/\/static\/mark-.+\.svg$/)])
    expectHeaders(file, immutable, file.url)
}

for (const [visitName, second] of [
  ["", false],
  [", also on a second visit that gets 304s", true],
] as const) {
  test(`the home page, its data and its scripts carry Gatsby's headers and the site's own${visitName}`, async ({
    page,
    at,
    configuration,
  }) => {
    const seen = await visit(page, at("/"), second)

    expectHeaders(seen.page, { ...revalidate, "x-custom-header": "for every path" }, "the page")
    expectFiles(seen, configuration, ["app-data", "page-data", "slice-data", "static query results"])
    expect(seen.page.revalidated).toBe(second)
  })

  test(`a server-rendered page gets gatsby-config's headers, and getServerData's own win${visitName}`, async ({
    page,
    at,
    configuration,
  }) => {
    const seen = await visit(page, at("/routes/ssr/static"), second)

    expectHeaders(
      seen.page,
      {
        ...security,
        "x-custom-header": "for every path",
        "x-ssr-header": "from config",
        "x-ssr-header-getserverdata": "from getServerData",
        "x-ssr-header-overwrite": "getServerData",
      },
      "the page",
    )
    expectFiles(seen, configuration, ["app-data"])
    expect(seen.page.revalidated).toBe(second)
  })

  test(`a deferred page gets gatsby-config's headers${visitName}`, async ({ page, at, configuration }) => {
    const seen = await visit(page, at("/routes/dsg/static"), second)

    expectHeaders(
      seen.page,
      { ...security, "x-custom-header": "for every path", "x-dsg-header": "from config" },
      "the page",
    )
    expectFiles(seen, configuration, ["app-data", "page-data"])
    expect(seen.page.revalidated).toBe(second)
  })
}

test("a Gatsby Function's answer gets gatsby-config's headers for its path", async ({
  request,
  configuration,
}) => {
  const response = await request.get(`${configuration.pathPrefix}/api/param/dune`)

  expectHeaders(
    { url: response.url(), revalidated: false, headers: response.headers() },
    { ...security, "x-custom-header": "for every path", "x-function-header": "from config" },
    "the function",
  )
})
