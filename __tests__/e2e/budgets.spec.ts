import { gzipSync } from "node:zlib"
import { budgets } from "./budgets"
import { expect, test } from "./fixtures"

// Bytes, not time: what a visit to /ssr/ costs in the production build. (Only the serve project runs
// this file; gatsby develop's bundles are not what people download.)

test("the HTML of /ssr/ stays within its budget", async ({ request }) => {
  const html = await (await request.get("/ssr/")).body()

  expect(html.byteLength).toBeLessThanOrEqual(budgets.ssrHtmlBytes)
})

test("the page-data of /ssr/ carries only the fields the page renders", async ({ request }) => {
  const pageData = await (await request.get("/page-data/ssr/page-data.json")).json()

  expect(Object.keys(pageData.result.serverData)).toEqual(["message"])
})

test("the JavaScript a browser downloads for /ssr/ stays within its gzipped budget", async ({ page }) => {
  const scripts: Promise<number>[] = []
  page.on("response", (response) => {
    if (response.request().resourceType() === "script") {
      scripts.push(response.body().then((body) => gzipSync(body, { level: 9 }).byteLength))
    }
  })

  await page.goto("/ssr/")
  await page.waitForLoadState("networkidle")
  const sizes = await Promise.all(scripts)
  const total = sizes.reduce((sum, size) => sum + size, 0)

  test
    .info()
    .annotations.push({ type: "gzipped JavaScript", description: `${total} bytes in ${sizes.length} files` })
  expect(sizes.length).toBeGreaterThan(0)
  expect(total).toBeLessThanOrEqual(budgets.ssrJavaScriptGzippedBytes)
})
