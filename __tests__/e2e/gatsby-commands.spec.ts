import { clickWhenHydrated, expect, expectLoaded, test } from "./fixtures"

// Gatsby's own commands one after the other, as people type them, with no clean between them: gatsby
// build on top of what gatsby develop left, then gatsby serve (the netlify project's build, which
// build-for-netlify.setup.ts makes where develop ran). gatsby develop on a built site is the develop
// project itself: it runs every page test on a copy of the built site. See playwright.config.ts.

test("after develop, gatsby build and serve show a fresh dog on following the link", async ({
  page,
  problems,
}) => {
  await page.goto("/")

  await clickWhenHydrated(page.getByRole("link", { name: "Show me a dog" }))

  await expect(page).toHaveURL(/\/ssr\/$/)
  await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
  expect(problems).toEqual([])
})

test("after develop, gatsby build and serve answer /ssr/'s page-data from getServerData", async ({
  request,
  api,
}) => {
  api.fail("http-500")

  const response = await request.get("/page-data/ssr/page-data.json")

  expect(response.status()).toBe(500)
  expect(response.headers()["cache-control"]).toBe("no-store")
})

test("after develop, gatsby build and serve show a breed on following a link", async ({ page }) => {
  await page.goto("/breeds/")

  await clickWhenHydrated(page.getByRole("link", { name: "Husky" }))

  await expect(page).toHaveURL(/\/breeds\/husky\/$/)
  await expectLoaded(page.getByRole("img", { name: "A random husky" }))
})
