import type { Failure } from "../mocks/handlers"
import {
  API_TIMEOUT_MS,
  clickWhenHydrated,
  expect,
  expectAnotherDog,
  expectLoaded,
  expectTheSamePage,
  markThePage,
  test,
} from "./fixtures"

// @smoke: what CI runs on each server on the older Node line.
test("shows a dog that has loaded, under the heading @smoke", async ({ page, problems }, testInfo) => {
  await page.goto("/ssr/")

  await expect(page.getByRole("heading", { level: 1, name: "SSR Page with Dogs" })).toBeVisible()
  const dog = page.getByRole("img", { name: "Happy dog" })
  await expectLoaded(dog)
  expect(problems).toEqual([])

  await page.screenshot({ path: testInfo.outputPath("ssr.png") })
})

test("shows a different dog after a reload", async ({ page }) => {
  await page.goto("/ssr/")
  const dog = page.getByRole("img", { name: "Happy dog" })
  const first = await dog.getAttribute("src")

  await page.reload()

  await expect(dog).not.toHaveAttribute("src", first!)
  await expectLoaded(dog)
})

test("shows a dog after following the home page's link, without a full page load", async ({
  page,
  problems,
}) => {
  await page.goto("/")
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible()
  await markThePage(page)

  await clickWhenHydrated(page.getByRole("link", { name: "Show me a dog" }))

  await expect(page).toHaveURL(/\/ssr\/$/)
  await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
  await expectTheSamePage(page)
  expect(problems).toEqual([])
})

test("shows another dog without a full page load", async ({ page, problems }) => {
  await page.goto("/ssr/")
  await expectAnotherDog(page, page.getByRole("img", { name: "Happy dog" }))
  expect(problems).toEqual([])
})

test("links to the dog's breed page", async ({ page }) => {
  await page.goto("/ssr/")
  const breedLink = page.locator("a[href^='/breeds/']")
  const breed = (await breedLink.textContent())!

  await clickWhenHydrated(breedLink)

  await expect(page.getByRole("heading", { level: 1, name: breed })).toBeVisible()
  await expectLoaded(page.getByRole("img", { name: `A random ${breed.toLowerCase()}` }))
})

test("loads the home page with no console errors or failed requests", async ({ page, problems }) => {
  await page.goto("/")

  await expect(page.getByRole("link", { name: "Show me a dog" })).toBeVisible()
  await page.waitForLoadState("networkidle")
  expect(problems).toEqual([])
})

test("shows the 404 page for a missing page, with no other errors", async ({ page, problems, mode }) => {
  // gatsby develop shows its own page listing for a missing URL; the site's 404 page is at /404/.
  const missing = mode === "develop" ? "/404/" : "/no-such-page/"

  const response = await page.goto(missing)

  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible()
  await page.waitForLoadState("networkidle")
  if (mode !== "develop") {
    expect(response?.status()).toBe(404)
    // Expected: 404s for the missing page, its page-data, and Gatsby's re-check of the path. Nothing else.
    const missingPage = /\/no-such-page\/?$|\/page-data\/no-such-page\/page-data\.json$/
    expect(problems.filter((problem) => !missingPage.test(problem))).toEqual([])
  } else {
    expect(problems).toEqual([])
  }
})

// For a random dog: the page's link to its breed is prefetched, and that page asks for a dog of its own.
test("asks the dog API once per visit", async ({ page, api }) => {
  const before = api.apiRequests("/breeds/image/random")

  await page.goto("/ssr/")
  await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
  await page.waitForLoadState("networkidle")

  expect(api.apiRequests("/breeds/image/random") - before).toBe(1)
})

// Production renders /ssr/'s own message; gatsby develop, which renders in the browser, shows the
// 500 page. Both ask the person to try refreshing.
for (const failure of ["http-500", "hang", "not-json", "javascript-url", "too-large"] satisfies Failure[]) {
  test(`shows a message and answers 500, with no broken image, when the dog API fails: ${failure}`, async ({
    page,
    api,
    mode,
  }) => {
    api.fail(failure)

    const started = Date.now()
    const response = await page.goto("/ssr/")

    // Under gatsby develop the browser then asks for the page-data, whose getServerData waits for a
    // hanging API once more before the page can show its message.
    await expect(page.getByRole("status")).toHaveText(/try refreshing/i, { timeout: API_TIMEOUT_MS + 5000 })
    await page.waitForLoadState("networkidle")
    await expect(page.getByRole("img")).toHaveCount(0)
    if (mode !== "develop") {
      expect(response?.status()).toBe(500)
      expect(response?.headers()["cache-control"]).toBe("no-store")
      // Bounded by the site's timeout (plus slack for a busy machine), not by the hanging API.
      expect(Date.now() - started).toBeLessThan(API_TIMEOUT_MS + 10_000)
    }
  })
}

test("shows a message, not a blank page, after following the link while the dog API fails", async ({
  page,
  api,
}) => {
  await page.goto("/")
  await expect(page.getByRole("link", { name: "Show me a dog" })).toBeVisible()
  api.fail("http-500")

  await clickWhenHydrated(page.getByRole("link", { name: "Show me a dog" }))

  await expect(page).toHaveURL(/\/ssr\/$/)
  await expect(page.getByRole("status")).toHaveText(/try refreshing/i)
  await expect(page.getByRole("img")).toHaveCount(0)
})

// Not under gatsby develop, which clears its server bundle from require's cache as it recompiles
// (render-dev-html.js), and with it the circuit breaker. Production keeps one per process.
test(
  "stops asking a failing dog API for a moment, then shows dogs again by itself",
  { tag: "@production" },
  async ({ page, api }) => {
    api.fail("http-500")
    // Five failures in a row open the site's circuit breaker.
    for (let i = 0; i < 5; i++) await page.request.get("/page-data/ssr/page-data.json")
    api.fail(null)
    const asked = api.apiRequests("/breeds/image/random")

    await page.goto("/ssr/")

    await expect(page.getByRole("status")).toHaveText(/try refreshing/i)
    expect(api.apiRequests("/breeds/image/random")).toBe(asked)
    await expect(async () => {
      await page.reload()
      await expectLoaded(page.getByRole("img", { name: "Happy dog" }))
    }).toPass({ timeout: 10_000 })
  },
)

// gatsby develop answers other methods itself (POST 404, DELETE its HTML shell, OPTIONS 204) and runs no
// getServerData for them; the production server runs it, and the pages answer 405.
test("answers methods other than GET and HEAD without asking the dog API (405 in production)", async ({
  request,
  api,
  mode,
}) => {
  const asked = api.apiRequests()

  for (const path of ["/ssr/", "/breeds/", "/breeds/husky/"]) {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await request.fetch(path, { method })

      if (mode !== "develop") {
        expect(response.status(), `${method} ${path}`).toBe(405)
        expect(response.headers()["allow"]).toBe("GET, HEAD")
        expect(response.headers()["cache-control"]).toBe("no-store")
      }
    }
  }
  expect(api.apiRequests()).toBe(asked)
})
