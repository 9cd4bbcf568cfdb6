import { clickWhenHydrated, expect, expectLoaded, test } from "./fixtures"

// Gatsby's own commands in the order people type them: gatsby develop, then gatsby build with no clean,
// then gatsby serve, then gatsby develop again. The develop project runs before the serve project, and
// the "develop after build" project after it (see playwright.config.ts).

test("after develop, gatsby build and serve show a fresh dog on following the link @after-develop", async ({
  page,
  build,
  problems,
}) => {
  // Otherwise this would not test a build on top of develop's files.
  expect(build.afterDevelop).toBe(true)
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
