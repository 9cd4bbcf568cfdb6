import path from "node:path"
import { dogImageSources, dogPicture } from "../src/dog-picture"

const PUG = "https://images.dog.ceo/breeds/pug/n02110958_1975.jpg"
const GENERATOR = path.join(__dirname, "mocks/image-cdn-url-generator.js")

type GatsbyGlobal = { __GATSBY?: { imageCDNUrlGeneratorModulePath?: string } }
const gatsby = globalThis as GatsbyGlobal

// As Gatsby's engine names an adapter's generator; gone after each test, as under gatsby develop.
function hostResizesPictures(modulePath = GENERATOR) {
  gatsby.__GATSBY = { imageCDNUrlGeneratorModulePath: modulePath }
}

afterEach(() => {
  delete gatsby.__GATSBY
  delete process.env.DOG_IMAGE_URLS
  jest.restoreAllMocks()
})

test("offers the dog in AVIF and WebP at three widths, through the host's image addresses", () => {
  hostResizesPictures()

  const picture = dogPicture(PUG)

  const u = encodeURIComponent(PUG)
  expect(picture?.sources).toEqual([
    {
      type: "image/avif",
      srcSet: [320, 640, 960].map((w) => `/cdn/avif/${w}/75/n02110958_1975.jpg?u=${u} ${w}w`).join(", "),
    },
    {
      type: "image/webp",
      srcSet: [320, 640, 960].map((w) => `/cdn/webp/${w}/75/n02110958_1975.jpg?u=${u} ${w}w`).join(", "),
    },
  ])
  expect(picture?.src).toBe(`/cdn/jpg/640/75/n02110958_1975.jpg?u=${u}`)
  expect(picture?.sizes).toBe("(max-width: 42rem) 100vw, 42rem")
})

test("leaves the picture as the dog API gave it, quietly, where the host has no image CDN", () => {
  const warn = jest.spyOn(console, "warn")

  expect(dogPicture(PUG)).toBeUndefined()
  expect(warn).not.toHaveBeenCalled()
})

test("leaves a picture from a host the build does not allow as it is", () => {
  hostResizesPictures()

  expect(dogPicture("https://example.com/breeds/pug/1.jpg")).toBeUndefined()
  expect(dogPicture("https://images.dog.ceo@example.com/breeds/pug/1.jpg")).toBeUndefined()
})

test("leaves an SVG as it is: the server never makes pictures of one", () => {
  hostResizesPictures()
  process.env.DOG_IMAGE_URLS = "http://127.0.0.1:*/images/breeds/*"

  expect(dogPicture("http://127.0.0.1:4321/images/breeds/pug/1.svg")).toBeUndefined()
  expect(dogPicture("http://127.0.0.1:4321/images/breeds/pug/1.jpg")).toBeDefined()
})

test("shows the picture as it is, and says why, when the host's generator fails", () => {
  const warn = jest.spyOn(console, "warn").mockImplementation(() => {})
  hostResizesPictures(path.join(__dirname, "mocks/no-such-generator.js"))

  expect(dogPicture(PUG)).toBeUndefined()
  expect(warn).toHaveBeenCalledWith(
    expect.stringContaining(`showing ${PUG} as it is`),
    expect.objectContaining({ message: expect.stringContaining("no-such-generator") }),
  )
})

test("lets the server fetch dog.ceo's pictures, or those DOG_IMAGE_URLS names", () => {
  expect(dogImageSources()).toEqual(["https://images.dog.ceo/breeds/*"])

  process.env.DOG_IMAGE_URLS = "https://images.dog.ceo/breeds/*, http://127.0.0.1:*/images/breeds/*"

  expect(dogImageSources()).toEqual(["https://images.dog.ceo/breeds/*", "http://127.0.0.1:*/images/breeds/*"])
})
