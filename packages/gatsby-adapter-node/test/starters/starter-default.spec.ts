import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { startServer } from "test-harness"
import { copySite, expect, test, waitForHydration } from "../sites"

// gatsby-starter-default's pages, in Chromium, from the standalone folder.

test("the home page links to page 2, which opens without a full page load", async ({ page }) => {
  await page.goto("/")
  await waitForHydration(page)
  await page.evaluate(() => ((window as { notReloaded?: boolean }).notReloaded = true))

  await page.getByRole("link", { name: "Go to page 2" }).click()

  await expect(page.getByRole("heading", { name: "Hi from the second page" })).toBeVisible()
  await expect(page).toHaveURL(/\/page-2\/$/)
  expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true)
})

test("the server-rendered page shows what getServerData got, after a client-side visit too", async ({
  page,
}) => {
  await page.goto("/")
  await waitForHydration(page)

  await page.getByRole("link", { name: "Go to Using SSR" }).click()

  await expect(page.getByText("Breed: shiba")).toBeVisible()
})

test("the deferred page renders at its first visit", async ({ page }) => {
  const response = await page.goto("/using-dsg/")

  expect(response?.status()).toBe(200)
  await expect(page.getByRole("heading", { name: "Hello from a DSG Page" })).toBeVisible()
})

test("an unknown address shows the site's 404 page with status 404", async ({ page }) => {
  const response = await page.goto("/no-such-page/")

  expect(response?.status()).toBe(404)
  await expect(page.getByRole("heading", { name: "404: Not Found" })).toBeVisible()
})

// The README's commands, as a user of the site types them, in the site's own folder.

test("npx gatsby-adapter-node serves the build of the site in the current folder", async ({ site }) => {
  const server = await startServer("npx", ["gatsby-adapter-node"], {
    cwd: site,
    ready: (url) => `${url}/healthz`,
  })
  try {
    for (const page of ["/", "/using-ssr/", "/using-dsg/", "/page-data/using-ssr/page-data.json"]) {
      expect({ page, status: (await fetch(`${server.url}${page}`)).status }).toEqual({ page, status: 200 })
    }
    // With a worker per core (the default), the first worker answers before the last has started,
    // and the line comes once all have.
    await expect.poll(() => server.output()).toContain(`Serving the built site on ${server.url}/`)
  } finally {
    await server.stop()
  }
})

test("the README's deploy commands serve the standalone folder alone, with Node and no install", async () => {
  test.setTimeout(300_000)
  const readme = readFileSync(path.join(__dirname, "../../README.md"), "utf8")
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf("## Deploying")))?.[1] ?? ""
  expect(block).toContain("PORT=9000")
  const work = mkdtempSync(path.join(os.tmpdir(), "gatsby-adapter-node-deploy-"))
  const siteDir = path.join(work, "site")
  const hostDir = path.join(work, "srv/site")
  mkdirSync(path.dirname(hostDir), { recursive: true })
  copySite("starter-default", siteDir)
  const server = await startServer(
    "bash",
    ["-e", "-c", block.replaceAll("/srv/site", hostDir).replace("PORT=9000", "PORT=$PORT")],
    { cwd: siteDir, ready: (url) => `${url}/healthz`, deadlineMs: 240_000 },
  )
  try {
    // The site's own folder is gone: what answers is the standalone folder, with no node_modules above it.
    rmSync(siteDir, { recursive: true, force: true })
    for (const page of ["/", "/using-ssr/", "/using-dsg/", "/page-2/"]) {
      const { status } = await fetch(`${server.url}${page}`)
      expect({ page, status }).toEqual({ page, status: 200 })
    }
    const above = ancestors(hostDir).filter((dir) => existsSync(path.join(dir, "node_modules")))
    expect(above).toEqual([])
    expect(folderBytes(hostDir)).toBeLessThan(50 * 1024 * 1024)
  } finally {
    await server.stop()
    rmSync(work, { recursive: true, force: true })
  }
})

function ancestors(dir: string): string[] {
  const found: string[] = []
  for (let up = path.dirname(dir); up !== path.dirname(up); up = path.dirname(up)) found.push(up)
  return found
}

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(path.join(entry.parentPath, entry.name)).size, 0)
}
