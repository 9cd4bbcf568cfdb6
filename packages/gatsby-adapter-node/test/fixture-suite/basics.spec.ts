import { expect, test, waitForHydration } from "../sites"

// Mirrors Gatsby's adapter suite: basics.cy.ts and slices.cy.ts.

test("shows the home page with its title and heading", async ({ page, at }) => {
  await page.goto(at("/"))

  await expect(page).toHaveTitle("Node adapter fixture")
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Node adapter fixture")
})

for (const alt of ["From the static folder", "Imported through webpack"]) {
  test(`shows the image ${alt.toLowerCase()}`, async ({ page, at }) => {
    await page.goto(at("/"))

    await expect
      .poll(() =>
        page.getByAltText(alt).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBeGreaterThan(0)
  })
}

test("applies the site's CSS", async ({ page, at }) => {
  await page.goto(at("/"))

  await expect(page.getByRole("heading", { level: 1 })).toHaveCSS("color", "rgb(21, 21, 22)")
})

test("renders the footer Slice, with its static query's result", async ({ page, at }) => {
  await page.goto(at("/"))
  await waitForHydration(page)

  await expect(page.getByRole("contentinfo")).toHaveText("A footer from a Slice, on Node adapter fixture")
})

test("shows the site's 404 page, with status 404, at an unknown address", async ({ page, at }) => {
  const response = await page.goto(at("/no-such-page"))

  expect(response?.status()).toBe(404)
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Page not found (custom)")
})
