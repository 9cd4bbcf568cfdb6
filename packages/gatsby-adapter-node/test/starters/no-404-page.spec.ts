import { expect, test } from "../sites"

// A site with no 404 and no 500 page, in Chromium.

test("an unknown address shows a page that says Not Found, with status 404", async ({ page }) => {
  const response = await page.goto("/no-such-page/")

  expect(response?.status()).toBe(404)
  await expect(page.getByText("Not Found", { exact: true })).toBeVisible()
})

test("a page whose getServerData throws answers 500 with a short text", async ({ page }) => {
  const response = await page.goto("/broken/")

  expect(response?.status()).toBe(500)
  await expect(page.locator("body")).toContainText(/internal server error/i)
})
