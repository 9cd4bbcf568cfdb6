import { expect, test, waitForHydration, withTrailingSlash } from "../sites"

// Mirrors Gatsby's adapter suite: trailing-slash.cy.ts. One address a page, the form trailingSlash picks;
// "ignore" answers both.

for (const linked of ["static-without-slash", "static-with-slash"]) {
  test(`a Link (${linked}) lands on the page's address`, async ({ page, at }) => {
    await page.goto(at("/"))
    await waitForHydration(page)

    await page.getByTestId(linked).click()

    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Static")
    expect(new URL(page.url()).pathname).toMatch(new RegExp(`^${at("/routes/static").replace(/\/$/, "")}/?$`))
  })
}

test("a direct visit to the page's address gets the page", async ({ request, at }) => {
  const response = await request.get(at("/routes/static"), { maxRedirects: 0 })

  expect(response.status()).toBe(200)
})

test("a direct visit to the page's other form is sent to the page's address, or served under ignore", async ({
  request,
  configuration: { trailingSlash, pathPrefix },
}) => {
  const other = `${pathPrefix}${withTrailingSlash("/routes/static", trailingSlash === "always" ? "never" : "always")}`
  const response = await request.get(`${other}?keep=1`, { maxRedirects: 0 })

  if (trailingSlash === "ignore") {
    expect(response.status()).toBe(200)
  } else {
    expect(response.status()).toBe(301)
    expect(response.headers().location).toBe(
      `${pathPrefix}${withTrailingSlash("/routes/static", trailingSlash)}?keep=1`,
    )
  }
})
