import { createHash } from "node:crypto"
import path from "node:path"
import type { ImageCdnUrlGeneratorFn } from "gatsby"
import { URLPattern } from "urlpattern-polyfill/urlpattern"

// A dog picture at the size a page shows it, in a modern format, through the host's image CDN: the
// addresses that the host's generator writes for a remote image, the one Gatsby's engine uses for a
// CMS's images (an adapter's `imageCDNUrlGeneratorModulePath`). The Node server (gatsby-adapter-node)
// answers them by fetching the picture once and resizing it. Where the host has no image CDN
// (gatsby develop, gatsby serve, Netlify without its Image CDN), or the picture is not one the build
// lets the server fetch, the page shows the dog API's picture as it is.

// Where the server may fetch pictures from: URL patterns, as Gatsby's addRemoteFileAllowedUrl takes
// them (gatsby-node.ts), comma-separated. Read as `process.env.DOG_IMAGE_URLS` on purpose: Gatsby writes
// the build's value into the page's server code, so the page and the server's allow-list agree.
export function dogImageSources(): string[] {
  const setting = process.env.DOG_IMAGE_URLS ?? "https://images.dog.ceo/breeds/*"
  return setting
    .split(",")
    .map((pattern) => pattern.trim())
    .filter(Boolean)
}

// The sizes offered: the page shows the dog at most 42rem wide (global.css), 1.5 times that for
// sharper screens. The browser picks by the width it needs and the first format it reads.
const WIDTHS = [320, 640, 960]
const SIZES = "(max-width: 42rem) 100vw, 42rem"
const FORMATS = [
  { format: "avif", type: "image/avif" },
  { format: "webp", type: "image/webp" },
]
const QUALITY = 75
// This site has no pathPrefix (gatsby-config.ts); a fork that sets one passes it here.
const PATH_PREFIX = ""
// Pictures the server can resize; an SVG is never rasterized.
const RASTER_TYPES: Record<string, string> = {
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".png": "image/png",
  ".webp": "image/webp",
}

export type DogPicture = {
  sources: Array<{ type: string; srcSet: string }>
  src: string
  srcSet: string
  sizes: string
}

// Gatsby's global, where its engine names the host's image CDN: the module of an adapter's generator.
type GatsbyGlobal = { __GATSBY?: { imageCDNUrlGeneratorModulePath?: string } }

function hostGenerator(): ImageCdnUrlGeneratorFn | undefined {
  const modulePath = (globalThis as GatsbyGlobal).__GATSBY?.imageCDNUrlGeneratorModulePath
  if (!modulePath) return undefined
  // Required by Node, from where it is, not bundled into the page's code: webpack rewrites an import of
  // node:module's createRequire, not a module that Node's getBuiltinModule hands over at run time.
  const { createRequire } = process.getBuiltinModule("node:module")
  const loaded = createRequire(modulePath)(modulePath) as
    ImageCdnUrlGeneratorFn | { default: ImageCdnUrlGeneratorFn }
  return typeof loaded === "function" ? loaded : loaded.default
}

// The allow-list's patterns, compiled once for the setting they come from (a compile takes 0.1 ms, a
// test far less); one that does not compile allows nothing.
let compiled: { setting: string; patterns: URLPattern[] } | undefined

function isAllowed(url: string): boolean {
  const sources = dogImageSources()
  const setting = sources.join(",")
  if (compiled?.setting !== setting) {
    const patterns = sources.flatMap((pattern) => {
      try {
        return [new URLPattern(pattern)]
      } catch {
        return []
      }
    })
    compiled = { setting, patterns }
  }
  return compiled.patterns.some((pattern) => pattern.test(url))
}

// Undefined where the page should show the picture as the dog API gave it: also when the host's
// generator fails, which must not cost the visitor the dog.
export function dogPicture(url: string): DogPicture | undefined {
  const filename = path.posix.basename(new URL(url).pathname)
  const mimeType = RASTER_TYPES[path.posix.extname(filename).toLowerCase()]
  if (!mimeType || !isAllowed(url)) return undefined
  try {
    const generate = hostGenerator()
    if (!generate) return undefined
    // A dog.ceo picture never changes under its address: the address stands for its content.
    const contentDigest = createHash("md5").update(url).digest("hex")
    const source = { url, filename, mimeType, internal: { contentDigest } }
    const address = (width: number, format: string) =>
      generate(source, { width, format, quality: QUALITY }, PATH_PREFIX)
    const srcSet = (format: string) => WIDTHS.map((width) => `${address(width, format)} ${width}w`).join(", ")
    return {
      sources: FORMATS.map(({ format, type }) => ({ type, srcSet: srcSet(format) })),
      src: address(640, "jpg"),
      srcSet: srcSet("jpg"),
      sizes: SIZES,
    }
  } catch (error) {
    console.warn(`[dog picture] the host's image addresses failed, showing ${url} as it is:`, error)
    return undefined
  }
}
