import { request } from "node:http"
import { hostileSlugs } from "../data/hostile-slugs"
import { clickWhenHydrated, expect, expectAnotherDog, expectLoaded, test } from "./fixtures"

test("shows a breed chosen from the list, then another dog of it without a full page load", async ({
  page,
  problems,
}) => {
  await page.goto("/breeds/")
  await clickWhenHydrated(page.getByRole("link", { name: "Afghan hound" }))

  await expect(page).toHaveURL(/\/breeds\/hound-afghan\/$/)
  await expect(page.getByRole("heading", { level: 1, name: "Afghan hound" })).toBeVisible()
  await expectAnotherDog(page, page.getByRole("img", { name: "A random afghan hound" }))
  expect(problems).toEqual([])
})

test("shows the dog at the size shown, in AVIF, where the server resizes pictures, else as the API gave it", async ({
  page,
  mode,
  api,
  problems,
}) => {
  const images: string[] = []
  page.on("response", (response) => {
    if (response.request().resourceType() === "image") images.push(response.headers()["content-type"])
  })
  await page.goto("/breeds/pug/")

  const dog = page.getByRole("img", { name: "A random pug" })
  await expectLoaded(dog)
  const shown = await dog.evaluate((img: HTMLImageElement) => img.currentSrc)
  if (mode === "node") {
    // 42rem at this viewport's one pixel per pixel: the 960 px AVIF, made by the server from the picture.
    expect(shown).toMatch(/\/_gatsby\/image\/[0-9a-f]{32}\/[0-9a-f]{32}\/\d+\.avif\?/)
    expect(new URL(shown).searchParams.get("u")).toMatch(/\/images\/breeds\/pug\/\d+\.jpg$/)
    expect(new URL(shown).searchParams.get("a")).toBe("w=960&fm=avif&q=75")
    expect(images).toEqual(["image/avif"])
    // The picture's own width (naturalWidth is scaled by the srcset's).
    const width = await dog.evaluate(
      async (img: HTMLImageElement) =>
        (await createImageBitmap(await (await fetch(img.currentSrc)).blob())).width,
    )
    expect(width).toBe(960)
  } else {
    expect(shown).toMatch(new RegExp(`^${new URL(api.apiUrl).origin}/images/breeds/pug/\\d+\\.jpg$`))
    expect(images).toEqual(["image/jpeg"])
  }
  expect(problems).toEqual([])
})

test("lets browsers and CDNs cache the breed list", async ({ page, mode }) => {
  const response = await page.goto("/breeds/")

  await expect(page.getByRole("link", { name: "Husky" })).toBeVisible()
  // gatsby develop sets its own headers on the page; the production server sends getServerData's.
  if (mode !== "develop") {
    expect(response?.headers()["cache-control"]).toBe(
      "public, max-age=3600, s-maxage=86400, stale-while-revalidate=604800",
    )
  }
})

test("answers 404 and says so for a breed the dog API does not know", async ({ page, mode }) => {
  const response = await page.goto("/breeds/unicorn/")

  await expect(page.getByRole("status")).toHaveText("No such breed.")
  await expect(page.getByRole("link", { name: "See every breed" })).toHaveAttribute("href", "/breeds/")
  if (mode !== "develop") expect(response?.status()).toBe(404)
})

test("answers 400 and says so for an address that is not a breed", async ({ page, mode }) => {
  const response = await page.goto("/breeds/Husky/")

  await expect(page.getByRole("status")).toHaveText(/That is not a breed name/)
  await expect(page.getByRole("img")).toHaveCount(0)
  if (mode !== "develop") expect(response?.status()).toBe(400)
})

// Sent byte for byte (a browser would tidy some of these addresses up first). The path goes as an
// option: a URL string would be parsed first, and "%2E%2E" resolved as "..".
function get(site: string, path: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(site)
  return new Promise((resolve, reject) => {
    request({ hostname, port, path }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode!, type: res.headers["content-type"] ?? "", body }))
    })
      .on("error", reject)
      .end()
  })
}

// "/breeds//" is left out: servers read it as "/breeds/", the breed list, which does ask the API.
const hostileAddresses = hostileSlugs
  .filter(([, slug]) => slug !== "")
  .flatMap(([description, slug]) => {
    // Dots encoded too, or "/breeds/../" would be the home page rather than a slug of "..".
    const encoded = encodeURIComponent(slug).replaceAll(".", "%2E")
    // gatsby serve's static file server decodes "%2E%2E" to ".." before any page or the API sees it:
    // "/breeds/%2E%2E/" is then the home page. Every other address must be refused, and the Node
    // server refuses that one too. It answers a breed of over 100 characters with 414 itself, without
    // running the page.
    const production = {
      serve: slug === ".." ? [200, 400] : [400, 404],
      node: slug.length > 100 ? [414] : [400, 404],
    }
    // The page itself, and its page-data, which is what a client-side navigation asks for.
    return [`/breeds/${encoded}/`, `/page-data/breeds/${encoded}/page-data.json`].map((path) => ({
      description,
      path,
      production,
    }))
  })

test("answers every hostile breed address without asking the dog API", async ({ site, api, mode }) => {
  const reachedTheApi: string[] = []
  const statuses: string[] = []

  for (const { description, path, production } of hostileAddresses) {
    const before = api.apiRequests()
    const { status, type, body } = await get(site, path)
    if (api.apiRequests() !== before) reachedTheApi.push(path)
    statuses.push(`${status} ${description}: ${path.slice(0, 70)}`)
    // Nothing from the address may come back as markup (JSON carries it as data, which is harmless).
    if (type.includes("html")) expect(body, `${description}: ${path}`).not.toContain("<script>alert")
    // gatsby develop answers 200 for every page (see src/upstream/failed-response.ts); production must not.
    if (mode !== "develop") expect(production[mode], `${description}: ${path}`).toContain(status)
  }

  expect(reachedTheApi).toEqual([])
  test.info().annotations.push({ type: "statuses", description: statuses.join("\n") })
})
