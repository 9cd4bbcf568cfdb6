import type { Page } from "@playwright/test"
import { clickWhenHydrated, expect, expectTheSamePage, markThePage, test } from "./fixtures"

// The page that depends on who asks (src/pages/for-you.tsx): a favourite breed, picked with a plain form
// on a breed page (src/api/favourite-breed.ts), kept in a cookie, and shown there, under every server.

async function pickFavourite(page: Page, slug: string, name: string): Promise<void> {
  await page.goto(`/breeds/${slug}/`)
  await page.getByRole("button", { name: `Make ${name} my favourite breed` }).click()
  await expect(page).toHaveURL(/\/for-you\/$/)
}

async function expectFavourite(page: Page, name: string): Promise<void> {
  await expect(page.getByText(`Your favourite breed: ${name}`)).toBeVisible()
  await expect(page.getByRole("img", { name: `A ${name.toLowerCase()}` })).toBeVisible()
}

test("shows a random dog, and how to pick a favourite, to a visitor who has none", async ({ page }) => {
  await page.goto("/for-you/")

  await expect(page.getByText("No favourite yet")).toBeVisible()
  await expect(page.getByRole("img", { name: "A random dog" })).toBeVisible()
})

test("shows a dog of the breed a visitor picked on its page, also after a reload", async ({ page }) => {
  await pickFavourite(page, "husky", "Husky")
  await expectFavourite(page, "Husky")

  await page.reload()

  await expectFavourite(page, "Husky")
})

test("shows the favourite after a client-side navigation from the home page", async ({ page }) => {
  await pickFavourite(page, "hound-afghan", "Afghan hound")
  await page.goto("/")
  await markThePage(page)

  await clickWhenHydrated(page.getByRole("link", { name: "Your dog" }).first())

  await expect(page).toHaveURL(/\/for-you\/$/)
  await expectFavourite(page, "Afghan hound")
  await expectTheSamePage(page)
})

test("forgets the favourite when asked, and shows a random dog again", async ({ page }) => {
  await pickFavourite(page, "pug", "Pug")

  await page.getByRole("button", { name: "Forget my favourite" }).click()

  await expect(page).toHaveURL(/\/for-you\/$/)
  await expect(page.getByText("No favourite yet")).toBeVisible()
})

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false })

  // gatsby develop renders pages in the browser (its HTML is a shell), so this is for production.
  test("the form on a breed page still picks the favourite", { tag: "@production" }, async ({ page }) => {
    await pickFavourite(page, "retriever-golden", "Golden retriever")

    await expectFavourite(page, "Golden retriever")
  })
})

test("refuses a favourite posted from another site, and sets no cookie", async ({ request }) => {
  const response = await request.post("/api/favourite-breed", {
    form: { breed: "husky" },
    headers: { Origin: "https://elsewhere.example", "Sec-Fetch-Site": "cross-site" },
    maxRedirects: 0,
  })

  expect(response.status()).toBe(403)
  expect(response.headers()["set-cookie"]).toBeUndefined()
})

// gatsby develop sends headers of its own (public, max-age=0) whatever getServerData says: a dev server
// sits behind no cache. The production servers send the page's.
test(
  "keeps personalized answers out of shared caches, and only those",
  { tag: "@production" },
  async ({ request }) => {
    const headers = { cookie: "favourite-breed=husky" }
    for (const url of ["/for-you/", "/page-data/for-you/page-data.json"]) {
      const answer = (await request.get(url, { headers })).headers()

      expect({ url, vary: answer.vary, cacheControl: answer["cache-control"] }).toEqual({
        url,
        vary: expect.stringMatching(/\bCookie\b/i),
        cacheControl: "private, no-store",
      })
    }
    for (const url of ["/breeds/", "/breeds/husky/", "/"]) {
      const answer = (await request.get(url, { headers })).headers()

      expect({ url, vary: answer.vary ?? "", cacheControl: answer["cache-control"] ?? "" }).toEqual({
        url,
        vary: expect.not.stringMatching(/cookie/i),
        cacheControl: expect.not.stringMatching(/private|no-store/),
      })
    }
  },
)
