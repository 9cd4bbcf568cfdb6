import { expect, test, waitForHydration } from "../sites"

// Mirrors Gatsby's adapter suite: client-only.cy.ts. Direct visits to routes that only the browser's
// router knows, the base of a wildcard included.

const subRouter = [
  ["/routes/sub-router", "index", "its base"],
  ["/routes/sub-router/page/profile", "profile", "a dynamic route"],
  ["/routes/sub-router/not-found", "not-found", "its default route"],
  ["/routes/sub-router/nested", "nested-index", "the index of a nested router"],
  ["/routes/sub-router/nested/foo", "foo", "a dynamic route of a nested router"],
  ["/routes/sub-router/static", "static-sibling", "a static page beside the wildcard"],
] as const

for (const [sitePath, marker, what] of subRouter) {
  test(`a page's own router shows ${what} on a direct visit`, async ({ page, at }) => {
    const response = await page.goto(at(sitePath))
    await waitForHydration(page)

    expect(response?.status()).toBe(200)
    await expect(page.getByTestId("dom-marker")).toHaveText(`[client-only-path] ${marker}`)
  })
}

const paramRoutes = [
  ["client-only", "dune"],
  ["client-only/wildcard", "atreides/harkonnen"],
  ["client-only/named-wildcard", "corinno/fenring"],
] as const

for (const [name, param] of paramRoutes) {
  test(`a ${name} route gets its params on a direct visit`, async ({ page, at }) => {
    await page.goto(at(`/routes/${name}/${param}`))
    await waitForHydration(page)

    await expect(page.getByTestId("title")).toHaveText(name)
    await expect(page.getByTestId("params")).toHaveText(new RegExp(`^${param}/?$`))
  })
}

test("a static page wins over the wildcard beside it", async ({ page, at }) => {
  await page.goto(at("/routes/client-only/prioritize"))
  await waitForHydration(page)

  await expect(page.getByTestId("title")).toHaveText("client-only/prioritize static")
})

test("the wildcard beside a static page answers the paths under it", async ({ page, at }) => {
  await page.goto(at("/routes/client-only/prioritize/nested"))
  await waitForHydration(page)

  await expect(page.getByTestId("title")).toHaveText("client-only/prioritize matchpath")
  await expect(page.getByTestId("params")).toHaveText(/^nested\/?$/)
})
