// @ts-check
// An image's transform, with sharp, for the arguments of a Gatsby Image CDN address (w, h, fm, q, and
// fit=crop with crop=<focus>), as Gatsby's own transform makes it: resized to cover the width and height
// asked for (or the one asked for, in proportion), in the format and quality asked for; the crop's focus
// where the address gives one. Bounded: arguments out of range are refused before any work; a source is
// read for its size first, and one of more pixels than the bound is refused before it is decoded; SVG
// (and PDF and ImageMagick's formats) are never decoded; an animated source gives its first frame; each
// transform has a timeout; transforms run a few at a time, with one libvips thread each and no libvips
// cache, behind a short queue, past which a request gets 503 at once. sharp is loaded at the first
// transform: the site's own (which Gatsby's build uses too), found from this package as Node finds it,
// and traced into the standalone folder with the server.
const { RefusedError } = require("./errors")

/**
 * @typedef {{ body: Buffer, type: string }} Transformed
 * @typedef {{ width?: number, height?: number, format: keyof typeof FORMATS, quality: number, position?: string }} Args
 */

// The formats an address may ask for, and what each is sent as.
const FORMATS = /** @type {const} */ ({
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  avif: "image/avif",
  gif: "image/gif",
})
// The largest width or height a transform makes: twice a wide screen's.
const MAX_SIDE = 8192
const AVIF_EFFORT = 3
// The crop focuses an address may name (Gatsby's ImageCropFocus, as its generator writes them), and
// sharp's strategies.
const FOCUSES = ["center", "centre", "top", "bottom", "left", "right", "entropy", "attention"]

/**
 * An address's arguments, checked: whole widths and heights up to MAX_SIDE, a quality of 1 to 100, a
 * format sharp writes, a focus it knows.
 * @param {URLSearchParams} params @returns {Args}
 */
function readArgs(params) {
  /** @param {string} name @param {number} max */
  const whole = (name, max) => {
    const value = params.get(name)
    if (value === null) return undefined
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < 1 || number > max)
      throw new RefusedError(
        `${name} must be a whole number from 1 to ${max}, not "${value}"`,
        400,
        "arguments",
      )
    return number
  }
  const format = params.get("fm") ?? ""
  if (!(format in FORMATS)) throw new RefusedError(`no format sharp writes: "${format}"`, 400, "arguments")
  const width = whole("w", MAX_SIDE)
  const height = whole("h", MAX_SIDE)
  if (!width && !height) throw new RefusedError("neither a width nor a height", 400, "arguments")
  let position
  if (params.get("fit") === "crop" && params.get("crop")) {
    const focus = /** @type {string} */ (params.get("crop")).toLowerCase().split(",")
    if (!focus.every((part) => FOCUSES.includes(part)))
      throw new RefusedError(`no crop focus sharp knows: "${params.get("crop")}"`, 400, "arguments")
    position = focus.join(" ")
  }
  return {
    width,
    height,
    format: /** @type {keyof typeof FORMATS} */ (format),
    quality: whole("q", 100) ?? 75,
    position,
  }
}

/**
 * @param {{ atOnce: number, queue: number, maxPixels: number, timeoutSeconds: number,
 *   requireSharp?: () => typeof import("sharp") }} options
 *   atOnce: transforms at the same time; queue: transforms that may wait for one of them; maxPixels: the
 *   largest source, in pixels; requireSharp: sharp, from the site's node_modules by default
 */
function createTransformer({
  atOnce,
  queue,
  maxPixels,
  timeoutSeconds,
  requireSharp = () => require("sharp"),
}) {
  /** @type {typeof import("sharp") | undefined} */
  let sharp
  let running = 0
  /** @type {Array<() => void>} */
  const waiting = []

  const load = () => {
    if (sharp) return sharp
    /** @type {typeof import("sharp")} */
    let loaded
    try {
      loaded = requireSharp()
    } catch (error) {
      throw new RefusedError(
        `images need sharp in the site (npm install sharp): ${error instanceof Error ? error.message : error}`,
        501,
        "no sharp",
      )
    }
    // Formats a web image never needs, whose decoders have been the way in for hostile files.
    loaded.block({ operation: ["VipsForeignLoadSvg", "VipsForeignLoadPdf", "VipsForeignLoadMagick"] })
    loaded.concurrency(1)
    loaded.cache(false)
    sharp = loaded
    return loaded
  }

  /**
   * Runs `work` when one of atOnce places is free, or refuses at once past the queue.
   * @template T @param {() => Promise<T>} work @returns {Promise<T>}
   */
  const inTurn = async (work) => {
    if (running >= atOnce) {
      if (waiting.length >= queue)
        throw new RefusedError("too many images being made; try again shortly", 503, "busy")
      await new Promise((resolve) => waiting.push(() => resolve(undefined)))
    }
    running++
    try {
      return await work()
    } finally {
      running--
      waiting.shift()?.()
    }
  }

  /**
   * A source transformed for an address's arguments (readArgs refuses bad ones before any fetch).
   * @param {Buffer} source @param {URLSearchParams} params @returns {Promise<Transformed>}
   */
  const transform = async (source, params) => {
    const args = readArgs(params)
    // Never decoded, by sharp or anything: an SVG is a document, scripts and all. Said here of the
    // SVGs that say so at once; libvips' SVG loader is blocked (load()) for those that hide it.
    if (
      /^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<(svg|!doctype svg)/i.test(
        source.subarray(0, 1024).toString("latin1"),
      )
    )
      throw new RefusedError("an SVG is not made into another image (ask for it as a file)", 422, "svg")
    const sharp = load()
    return inTurn(async () => {
      /** @type {import("sharp").Metadata} */
      let metadata
      try {
        metadata = await sharp(source, { limitInputPixels: false }).metadata()
      } catch {
        throw new RefusedError("the source is not an image this server reads", 422, "unreadable")
      }
      if ((metadata.width ?? 0) * (metadata.height ?? 0) > maxPixels)
        throw new RefusedError(`the source is over ${maxPixels} pixels`, 422, "too many pixels")
      try {
        // An animated source gives its first frame: a still, as Gatsby's own transform makes.
        const image = sharp(source, { limitInputPixels: maxPixels, failOn: "truncated", pages: 1 })
          .rotate()
          .resize(args.width, args.height, args.position ? { position: args.position } : {})
          .timeout({ seconds: timeoutSeconds })
        const { format, quality } = args
        // AVIF at libvips' effort 3 (Next.js's), not its default 4: a visitor waits for the first make,
        // and 4 took 4.5 times as long here (721 ms against 158 for 640 px) for a third fewer bytes.
        const encoded =
          format === "jpg"
            ? image.jpeg({ quality })
            : format === "avif"
              ? image.avif({ quality, effort: AVIF_EFFORT })
              : image.toFormat(format, { quality })
        const body = await encoded.toBuffer()
        return { body, type: FORMATS[format] }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        if (/timeout/i.test(message))
          throw new RefusedError("the image took too long to make", 503, "timeout")
        throw new RefusedError(`the source could not be made into this image: ${message}`, 422, "unreadable")
      }
    })
  }

  return { transform, pending: () => running + waiting.length }
}

module.exports = { createTransformer, readArgs }
