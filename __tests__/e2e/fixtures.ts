import { cpSync, rmSync, symlinkSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { expect, test as base, type Locator, type Page } from "@playwright/test"
import {
  attachOutputOnFailure,
  copyCheckout,
  startSite,
  type RunningServer,
  type SiteMode,
} from "test-harness"
import { startStandInApi, type StandInApi } from "../../tools/stand-in-api/server"

// The site's folder: the repository's root.
export const root = path.resolve(__dirname, "../..")
// A copy of the built site, where gatsby develop and then the Netlify build run (see copyBuiltSite).
export const developCopy = path.join(os.tmpdir(), "gatsby-ssr-dogs-develop")

// inCopy: the site in developCopy rather than in root.
export type SiteOptions = { mode: SiteMode; inCopy: boolean }

// The built site, copied as it stands once `gatsby build` has run: the repository's files, the build in
// .cache/ (with webpack's caches, which the Netlify build there reuses) and public/, and node_modules as
// a link to this one's. gatsby develop,
// which rewrites .cache/, runs there on a built site while gatsby serve and the Node server serve the
// build here, at the same time.
function copyBuiltSite(): void {
  rmSync(developCopy, { recursive: true, force: true })
  copyCheckout(root, developCopy)
  cpSync(path.join(root, "public"), path.join(developCopy, "public"), { recursive: true })
  cpSync(path.join(root, ".cache"), path.join(developCopy, ".cache"), { recursive: true })
  symlinkSync(path.join(root, "node_modules"), path.join(developCopy, "node_modules"))
}

// Short, so that the hanging-API test ends quickly (the site's default is 5 s), but not 1 s: a second
// run of the suite once saw /breeds/ time out under gatsby develop, whose compiles block its event loop.
export const API_TIMEOUT_MS = 3000

type WorkerFixtures = SiteOptions & { api: StandInApi; siteDir: string; server: RunningServer; site: string }
type TestFixtures = { problems: string[]; serverLog: void }

export const test = base.extend<TestFixtures, WorkerFixtures>({
  mode: ["serve", { option: true, scope: "worker" }],
  inCopy: [false, { option: true, scope: "worker" }],

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

  // The site's folder. gatsby develop starts from a fresh copy of the built site; the Netlify project
  // builds and serves what develop left in it.
  siteDir: [
    async ({ mode, inCopy }, use) => {
      if (inCopy && mode === "develop") copyBuiltSite()
      await use(inCopy ? developCopy : root)
    },
    { scope: "worker" },
  ],

  // The site, in the project's mode, asking the stand-in API for its dogs: for gatsby serve and the Node
  // server, on the build that the project's dependencies made (see playwright.config.ts). Built without
  // DOG_API_URL and served with it: proves the engine reads it per request.
  server: [
    async ({ mode, siteDir, api }, use) => {
      const server = await startSite(siteDir, mode, {
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
    async ({ server }, use, testInfo) => attachOutputOnFailure(server, use, testInfo),
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
