import { clickWhenHydrated, expect, expectLoaded, test } from "./fixtures"

// Gatsby's own commands one after the other, as people type them, with no clean between them: gatsby
// develop on a built site (the develop project runs after the build that gatsby serve and the Node
// server serve), then gatsby build on top of develop's files and gatsby serve (the netlify project's
// build, which build-for-netlify.setup.ts makes after develop). See playwright.config.ts.

test("after develop, gatsby build and serve show a fresh dog on following the link @after-develop", async ({
  page,
  problems,
}) => {
  await page.goto("/")

  await clickWhenHydrated(page.getByRole("link", { name: "Show me a dog" }))

  await expect(page).toHaveURL(/\/ssr\/$/)
  await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
  expect(problems).toEqual([])
})

test("after develop, gatsby build and serve answer /ssr/'s page-data from getServerData @after-develop", async ({
  request,
  api,
}) => {
  api.fail("http-500")

  const response = await request.get("/page-data/ssr/page-data.json")

  expect(response.status()).toBe(500)
  expect(response.headers()["cache-control"]).toBe("no-store")
})

test("after develop, gatsby build and serve show a breed on following a link @after-develop", async ({
  page,
}) => {
  await page.goto("/breeds/")

  await clickWhenHydrated(page.getByRole("link", { name: "Husky" }))

  await expect(page).toHaveURL(/\/breeds\/husky\/$/)
  await expectLoaded(page.getByRole("img", { name: "A random husky" }))
})

test("gatsby develop still shows a dog on following the link after a build @after-build", async ({
  page,
  problems,
}) => {
  await page.goto("/")

  await clickWhenHydrated(page.getByRole("link", { name: "Show me a dog" }))

  await expect(page).toHaveURL(/\/ssr\/$/)
  await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
  expect(problems).toEqual([])
})
