import { existsSync } from "node:fs"
import path from "node:path"
import { expect, test as base, type Locator, type Page } from "@playwright/test"
import { startStandInApi, type StandInApi } from "../../tools/stand-in-api/server"
import { buildSite, root, startSite, type SiteMode, type SiteServer } from "./gatsby"

// netlify: build for Netlify (as Netlify's own builds do, with NETLIFY=true) rather than for Node.
export type SiteOptions = { mode: SiteMode; netlify: boolean }

// Short, so that the hanging-API test ends quickly (the site's default is 5 s), but not 1 s: a second
// run of the suite once saw /breeds/ time out under gatsby develop, whose compiles block its event loop.
export const API_TIMEOUT_MS = 3000

// What the build found: whether gatsby develop had left its page-data of /ssr/ in public/.
type Build = { afterDevelop: boolean }

type WorkerFixtures = SiteOptions & { api: StandInApi; build: Build; server: SiteServer; site: string }
type TestFixtures = { problems: string[]; serverLog: void }

export const test = base.extend<TestFixtures, WorkerFixtures>({
  mode: ["serve", { option: true, scope: "worker" }],
  netlify: [false, { option: true, scope: "worker" }],

  // The stand-in dog API, in this worker's process, so that a test can make it fail.
  api: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const api = await startStandInApi()
      await use(api)
      await api.close()
    },
    { scope: "worker" },
  ],

  // `gatsby build`, once per worker, in the serve and netlify projects; gatsby develop needs none, and
  // the Node server serves the serve project's build. The develop project runs first, so this builds on
  // top of develop's files, as a person who develops and then deploys does.
  build: [
    async ({ mode, netlify }, use) => {
      const afterDevelop = existsSync(path.join(root, "public/page-data/ssr/page-data.json"))
      if (mode === "serve") buildSite(root, { NETLIFY: netlify ? "true" : "" })
      await use({ afterDevelop })
    },
    { scope: "worker", timeout: 300_000 },
  ],

  // The site, in the project's mode, asking the stand-in API for its dogs. Built without DOG_API_URL
  // and served with it: proves the engine reads it per request.
  server: [
    async ({ mode, api, build }, use) => {
      void build // requested for its effect: the production build exists
      const server = await startSite(mode, {
        env: { DOG_API_URL: api.apiUrl, DOG_API_TIMEOUT_MS: String(API_TIMEOUT_MS) },
      })
      try {
        await use(server)
      } finally {
        await server.stop()
      }
    },
    { scope: "worker", timeout: 300_000 },
  ],

  site: [async ({ server }, use) => use(server.url), { scope: "worker" }],

  // What the server printed during a test that failed (why a page had no dog, say), in its report.
  serverLog: [
    async ({ server }, use, testInfo) => {
      const before = server.output().length
      await use()
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach("server output", { body: server.output().slice(before) || "(nothing)" })
      }
    },
    { auto: true },
  ],

  baseURL: async ({ site }, use) => use(site),

  // Every test starts with a working API, whatever the test before it did. After failures, the site
  // may have stopped asking the API for a moment (its circuit breaker): wait until it shows dogs again.
  page: async ({ page, api, request }, use) => {
    api.fail(null)
    if (api.failedSinceAsked()) {
      await expect
        .poll(
          async () => (await (await request.get("/page-data/ssr/page-data.json")).json()).result.serverData,
          {
            timeout: 10_000,
          },
        )
        .toHaveProperty("message")
    }
    await use(page)
  },

  // What a person would see go wrong: console errors, page errors, failed or 4xx/5xx requests.
  problems: async ({ page }, use) => {
    const problems: string[] = []
    page.on("console", (message) => {
      if (message.type() === "error")
        problems.push(`console error: ${message.text()} ${message.location().url}`)
    })
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    page.on("requestfailed", (request) =>
      problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`),
    )
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`)
    })
    await use(problems)
  },
})

// An image that has loaded has a width; a broken one has none.
export async function expectLoaded(img: Locator): Promise<void> {
  await expect
    .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
    .toBeGreaterThan(0)
}

// Clicks a link once React has hydrated it. Before that, the click is the browser's own: a full page
// load, which aborts the page's requests and skips Gatsby's client-side navigation (a race that failed
// a test now and then, on a busy machine). React keeps a hydrated element's props on the element.
export async function clickWhenHydrated(link: Locator): Promise<void> {
  await expect
    .poll(() => link.evaluate((el) => Object.keys(el).some((key) => key.startsWith("__reactProps$"))))
    .toBe(true)
  await link.click()
}

// A full page load wipes this mark; Gatsby's client-side navigation keeps it.
export async function markThePage(page: Page): Promise<void> {
  await page.evaluate(() => Object.assign(window, { stillTheSamePage: true }))
}

export async function expectTheSamePage(page: Page): Promise<void> {
  expect(await page.evaluate(() => "stillTheSamePage" in window)).toBe(true)
}

// Clicks "Another dog" and expects a different dog that loads, without a full page load.
export async function expectAnotherDog(page: Page, dog: Locator): Promise<void> {
  await expectLoaded(dog)
  const first = await dog.getAttribute("src")
  await markThePage(page)

  await clickWhenHydrated(page.getByRole("link", { name: "Another dog" }))

  await expect(dog).not.toHaveAttribute("src", first!)
  await expectLoaded(dog)
  await expectTheSamePage(page)
}

export { expect }
