import { COUNTRY_HEADER, expect, getTarget, test } from "../sites"

// Mirrors Gatsby's adapter suite: redirects.cy.ts; and what createRedirect documents beyond it:
// conditions (country from a CDN's header, language), ignoreCase, a splat.

test("redirects from an address with no page to the redirect's page", async ({ page, at }) => {
  await page.goto(at("/redirect"))

  expect(new URL(page.url()).pathname).toBe(at("/routes/redirect/hit"))
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hit")
})

test("a page wins over a redirect from its address", async ({ page, at }) => {
  await page.goto(at("/routes/redirect/existing"))

  expect(new URL(page.url()).pathname).toBe(at("/routes/redirect/existing"))
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Existing")
})

test("a forced redirect wins over the page at its address", async ({ page, at }) => {
  await page.goto(at("/routes/redirect/existing-force"))

  expect(new URL(page.url()).pathname).toBe(at("/routes/redirect/hit"))
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Hit")
})

for (const [country, heading] of [
  ["us", "Hit US"],
  ["DE", "Hit DE"],
  ["fr", "Hit"],
] as const) {
  test(`a visitor from ${country} gets the redirect for their country, or the one without conditions`, async ({
    page,
    at,
  }) => {
    await page.setExtraHTTPHeaders({ [COUNTRY_HEADER]: country })
    await page.goto(at("/routes/redirect/country"))

    await expect(page.getByRole("heading", { level: 1 })).toHaveText(heading)
  })
}

test("a redirect by language follows Accept-Language, and says that it does", async ({ request, at }) => {
  const german = await request.get(at("/routes/redirect/language"), {
    headers: { "accept-language": "de-CH, en;q=0.5" },
    maxRedirects: 0,
  })
  const english = await request.get(at("/routes/redirect/language"), {
    headers: { "accept-language": "en-GB, de;q=0" },
    maxRedirects: 0,
  })

  expect(german.headers().location).toBe(at("/routes/redirect/hit-de"))
  expect(english.headers().location).toBe(at("/routes/redirect/hit"))
  expect(german.headers().vary).toContain("accept-language")
})

for (const [what, suffix] of [
  ["hash", "#anchor"],
  ["query", "?query_param=hello"],
  ["query and hash", "?query_param=hello#anchor"],
] as const) {
  test(`a redirect keeps the ${what} of a direct visit`, async ({ page, at }) => {
    await page.goto(`${at("/redirect")}${suffix}`)

    const { pathname, search, hash } = new URL(page.url())
    expect(pathname).toBe(at("/routes/redirect/hit"))
    expect(`${search}${hash}`).toBe(suffix)
  })
}

test("a redirect ignores the case of the address, as Gatsby's redirects do by default", async ({
  request,
  at,
}) => {
  const response = await request.get(at("/REDIRECT-any-CASE"), { maxRedirects: 0 })

  expect(response.status()).toBe(302)
  expect(response.headers().location).toBe(at("/routes/redirect/hit"))
})

test("a splat redirect puts what its wildcard matched into its target", async ({ page, configuration }) => {
  await page.goto(`${configuration.pathPrefix}/old-wildcard/atreides/harkonnen`)

  expect(new URL(page.url()).pathname).toMatch(/\/routes\/client-only\/wildcard\/atreides\/harkonnen\/?$/)
  await expect(page.getByTestId("params")).toHaveText(/^atreides\/harkonnen\/?$/)
})

test("a redirect never sends a visitor to a site that the request named", async ({
  server,
  configuration,
}) => {
  const response = await getTarget(server.url, `${configuration.pathPrefix}/go//evil.example/`)

  expect(response.status).toBe(302)
  // Without a prefix, //evil.example/ would be another site to a browser.
  expect(new URL(response.headers.location!, server.url).origin).toBe(server.url)
  expect(response.headers.location).toMatch(/\/evil\.example\/$/)
})
