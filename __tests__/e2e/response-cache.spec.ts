import type { Page } from "@playwright/test"
import { expect, test } from "./fixtures"

// The Node server's shared cache of rendered pages (src/response-cache.js), on the real build: what a
// visitor sees of it while the dog API fails.

// The second visitor has a browser of their own: the first one's would answer from its own cache
// (the list is public, max-age=3600) without asking the server. What counts is the list's endpoint:
// each browser prefetches the page-data of the breed pages that the list links to, which ask the API
// for their dogs while the test runs.
test("shows the breed list from the server's cache while the dog API fails", async ({
  page,
  browser,
  api,
}) => {
  await page.goto("/breeds/")
  api.fail("http-500")
  const asked = api.apiRequests("/breeds/list/all")
  const other = await browser.newContext()
  try {
    const visitor = await other.newPage()

    const response = await visitor.goto("/breeds/")

    await expect(visitor.getByRole("link", { name: "Husky" })).toBeVisible()
    expect(response?.status()).toBe(200)
    expect(response?.headers().age).toMatch(/^\d+$/)
    expect(api.apiRequests("/breeds/list/all")).toBe(asked)
  } finally {
    await other.close()
  }
})

async function pickFavourite(page: Page, slug: string, name: string): Promise<void> {
  await page.goto(`/breeds/${slug}/`)
  await page.getByRole("button", { name: `Make ${name} my favourite breed` }).click()
  await expect(page.getByText(`Your favourite breed: ${name}`)).toBeVisible()
}

test("shows each visitor their own page for you, never one kept for another", async ({ page, browser }) => {
  const other = await browser.newContext()
  try {
    await pickFavourite(page, "husky", "Husky")
    await pickFavourite(await other.newPage(), "pug", "Pug")

    const response = await page.goto("/for-you/")

    await expect(page.getByText("Your favourite breed: Husky")).toBeVisible()
    expect(response?.headers().age).toBeUndefined()
  } finally {
    await other.close()
  }
})

test("never shows an earlier page for you while the dog API fails", async ({ page, api }) => {
  await pickFavourite(page, "husky", "Husky")
  api.fail("http-500")

  const response = await page.goto("/for-you/")

  await expect(page.getByText("No dog right now")).toBeVisible()
  expect(response?.status()).toBe(500)
})
