import type { Page } from "@playwright/test"
import { generateImageUrl } from "../../src/image-urls"
import { REMOTE_IMAGES_ENV } from "../remote-images"
import { expect, test } from "../sites"

// Mirrors Gatsby's adapter suite: remote-file.cy.ts and remote-file-ssr.cy.ts, with its sizes and
// placeholders, for a static, a server-rendered and a deferred page; here every image address is this
// server's (Gatsby's Image CDN), where Netlify's are its own, and the File CDN links of server-rendered
// and deferred pages answer too (Gatsby's suite leaves them out there). And beyond it: a source the
// build does not allow is refused.

// Cypress's viewport, for which Gatsby's suite gives its full-width images' natural heights.
test.use({ viewport: { width: 1000, height: 660 } })
// A first visit waits for its page's images to be made (see shown()).
test.describe.configure({ timeout: 90_000 })

type Shown = { src: string; width: number; height: number; naturalWidth: number; naturalHeight: number }

// The images that `selector` finds, once every one has loaded, as the browser shows them. The server
// makes a page's images at its first visit, one at a time, the page's dozens in a queue (every image of
// the static page too, under imageCDN "request"): on a busy machine, more than expect's 5 s for the last
// of them (seen once in a full CI run). A broken image is said at once, with its address.
async function shown(page: Page, selector: string): Promise<Shown[]> {
  const images = page.locator(selector)
  await expect(images).toHaveCount(3)
  for (const image of await images.all()) {
    await image.scrollIntoViewIfNeeded()
    const state = () =>
      image.evaluate((img: HTMLImageElement) =>
        !img.complete ? "loading" : img.naturalWidth > 0 ? "loaded" : `broken: ${img.currentSrc}`,
      )
    await expect.poll(state, { timeout: 30_000 }).not.toBe("loading")
    expect(await state()).toBe("loaded")
  }
  return images.evaluateAll((imgs: HTMLImageElement[]) =>
    imgs.map((img) => {
      const { width, height } = img.getBoundingClientRect()
      const { pathname, search } = new URL(img.currentSrc)
      return {
        src: `${pathname}${search}`,
        width: Math.ceil(width),
        height: Math.ceil(height),
        naturalWidth: img.naturalWidth,
        naturalHeight: img.naturalHeight,
      }
    }),
  )
}

const pages = [
  ["a static page", "/routes/remote-file"],
  ["a server-rendered page", "/routes/ssr/remote-file"],
  ["a deferred page", "/routes/dsg/remote-file"],
] as const

for (const [kind, sitePath] of pages) {
  test(`shows the remote images of ${kind} at the sizes its query asks, from the server's addresses`, async ({
    page,
    request,
    at,
    configuration: { pathPrefix },
  }) => {
    await page.goto(at(sitePath))

    const sized = (width: number, height: number) => ({
      width,
      height,
      naturalWidth: width,
      naturalHeight: height,
    })
    const expected = {
      ".resize": [sized(100, 133), sized(100, 160), sized(100, 67)],
      ".fixed img:not([aria-hidden=true])": [sized(100, 133), sized(100, 160), sized(100, 67)],
      ".constrained img:not([aria-hidden=true])": [sized(300, 400), sized(300, 481), sized(300, 200)],
    }
    for (const [selector, sizes] of Object.entries(expected)) {
      const images = await shown(page, selector)
      expect(
        images.map(({ width, height, naturalWidth, naturalHeight }) => ({
          width,
          height,
          naturalWidth,
          naturalHeight,
        })),
      ).toEqual(sizes)
      for (const { src } of images) {
        expect(src.startsWith(`${pathPrefix}/_gatsby/image/`)).toBe(true)
        expect((await request.head(src)).status()).toBe(200)
      }
    }
    const full = await shown(page, ".full img:not([aria-hidden=true])")
    expect(full.map(({ naturalHeight }) => naturalHeight)).toEqual([1333, 1603, 666])
  })

  test(`links the remote files of ${kind} to the server's File CDN addresses, which answer`, async ({
    page,
    request,
    at,
    configuration: { pathPrefix },
  }) => {
    await page.goto(at(sitePath))

    const links = await page
      .getByTestId("public")
      .evaluateAll((as: HTMLAnchorElement[]) => as.map((a) => a.getAttribute("href") ?? ""))
    expect(links).toHaveLength(3)
    for (const link of links) {
      expect(link.startsWith(`${pathPrefix}/_gatsby/file/`)).toBe(true)
      const res = await request.get(link)
      expect(res.status()).toBe(200)
      expect(res.headers()["content-type"]).toBe("image/jpeg")
    }
  })

  test(`shows the placeholders of ${kind}'s remote images`, async ({ page, at }) => {
    await page.goto(at(sitePath))

    await expect(page.locator(".fixed [data-placeholder-image]").first()).toHaveCSS(
      "background-color",
      "rgb(232, 184, 8)",
    )
    const blurred = page.locator(".constrained [data-placeholder-image]").first()
    expect(await blurred.evaluate((element) => element.tagName)).toBe("IMG")
    expect(await blurred.getAttribute("src")).toContain("data:image/jpg;base64")
    // A traced placeholder falls back to the dominant colour, as in Gatsby's suite.
    for (const selector of [".constrained_traced", ".full"]) {
      const placeholder = page.locator(`${selector} [data-placeholder-image]`).first()
      expect(await placeholder.evaluate((element) => element.tagName)).toBe("DIV")
      await expect(placeholder).toBeEmpty()
    }
  })
}

test("refuses an image address whose source the build does not allow", async ({
  request,
  configuration: { pathPrefix },
}) => {
  // The suite's host, by another name than the one the build allows.
  const elsewhere = process.env[REMOTE_IMAGES_ENV]!.replace("127.0.0.1", "localhost")
  const address = generateImageUrl(
    {
      url: `${elsewhere}/photo-a.jpg`,
      filename: "photo-a.jpg",
      mimeType: "image/jpeg",
      internal: { contentDigest: "0".repeat(32) },
    },
    { width: 100, format: "webp", quality: 75 },
    pathPrefix,
  )

  const res = await request.get(address)

  expect(res.status()).toBe(403)
  expect(await res.text()).toContain("is not an address the build allows")
})
