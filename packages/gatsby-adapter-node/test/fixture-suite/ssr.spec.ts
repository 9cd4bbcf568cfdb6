import { expect, getTarget, test } from "../sites"

// Mirrors Gatsby's adapter suite: ssr.cy.ts; and request targets in absolute form (RFC 9112).

const visits = [
  ["/routes/ssr/static", "", "{}", "{}"],
  ["/routes/ssr/static", "?foo=bar", '{"foo":"bar"}', "{}"],
  ["/routes/ssr/param/foo", "", "{}", '{"param":"foo"}'],
  ["/routes/ssr/param/foo", "?foo=bar", '{"foo":"bar"}', '{"param":"foo"}'],
] as const

for (const [sitePath, query, expectedQuery, expectedParams] of visits) {
  test(`getServerData gets the query and params of ${sitePath}${query}`, async ({ page, at }) => {
    await page.goto(`${at(sitePath)}${query}`)

    await expect(page.getByTestId("query")).toHaveText(expectedQuery)
    await expect(page.getByTestId("params")).toHaveText(expectedParams)
  })
}

test("shows the site's 500 page, with status 500, where getServerData throws", async ({ page, at }) => {
  const response = await page.goto(at("/routes/ssr/error-path"))

  expect(response?.status()).toBe(500)
  expect(new URL(page.url()).pathname).toBe(at("/routes/ssr/error-path"))
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Internal server error (custom)")
})

test("routes a request target in absolute form on its path, and answers with no other site in it", async ({
  server,
  at,
  configuration,
}) => {
  const page = await getTarget(server.url, `http://evil.example${at("/routes/ssr/static")}?foo=bar`)
  // The page's address in the form trailingSlash does not pick: a 301 for always and never.
  const here = at("/routes/static")
  const other = here.endsWith("/") ? here.slice(0, -1) : `${here}/`
  const redirect = await getTarget(server.url, `http://evil.example${other}`)

  expect(page.status).toBe(200)
  expect(page.body).toContain("{&quot;foo&quot;:&quot;bar&quot;}")
  expect(page.body).not.toContain("evil.example")
  // "ignore" serves both forms, with no redirect.
  expect(redirect.headers.location).toBe(configuration.trailingSlash === "ignore" ? undefined : here)
})
