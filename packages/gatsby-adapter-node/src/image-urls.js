// @ts-check
// Gatsby's addresses for remote images and files (its Image CDN and File CDN, gatsby-plugin-utils'
// polyfill-remote-file): written as Gatsby's own generator writes them, for Gatsby's engine to use at
// request time (build.js hands it this module), and read back when a browser asks for one (images.js).
// It requires nothing but Node's own modules: Gatsby copies it alone into its engine.
//   <prefix>/_gatsby/image/<md5(url)>/<md5(args)>/<name>.<format>?u=<url>&a=<args>&cd=<content digest>
//   <prefix>/_gatsby/file/<md5(url)>/<name>?u=<url>
// With IMAGE_CDN_ENCRYPTION_SECRET_KEY and IMAGE_CDN_ENCRYPTION_IV set (as for `gatsby build`), the
// source's URL goes as `eu`, AES-256-CTR-encrypted behind random padding, as Gatsby writes it.
const { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } = require("node:crypto")
const path = require("node:path")

/**
 * @typedef {{ url: string, filename: string, mimeType?: string, internal: { contentDigest: string } }} RemoteSource
 * @typedef {{ width?: number, height?: number, format: string, quality?: number, cropFocus?: string | string[] }} ImageArgs
 * @typedef {{ kind: "image", url: string, contentDigest: string, args: URLSearchParams, name: string }
 *   | { kind: "file", url: string, name: string }} Asked what an address asks for
 */

// Gatsby builds the address as a URL on an origin of its own, then takes its path and query.
const ORIGIN = "https://gatsbyjs.com"
const ROUTE = "_gatsby"

// Gatsby's createContentDigest of a string.
/** @param {string} text */
const digest = (text) => createHash("md5").update(text).digest("hex")

function encryption() {
  const key = process.env.IMAGE_CDN_ENCRYPTION_SECRET_KEY || ""
  const iv = process.env.IMAGE_CDN_ENCRYPTION_IV || ""
  return key && iv ? { key: Buffer.from(key, "hex"), iv: Buffer.from(iv, "hex") } : undefined
}

/** @param {URLSearchParams} params @param {string} url */
function appendSource(params, url) {
  const secret = encryption()
  if (!secret) return params.append("u", url)
  const padded = `${randomBytes(randomInt(32, 64)).toString("hex")}:${url}`
  const cipher = createCipheriv("aes-256-ctr", secret.key, secret.iv)
  params.append("eu", Buffer.concat([cipher.update(padded), cipher.final()]).toString("hex"))
}

/** @param {{ url: string, mimeType?: string }} source @param {string} pathPrefix */
function publicPath({ url, mimeType }, pathPrefix) {
  // An SVG is a file to Gatsby, not an image to transform.
  const image = Boolean(mimeType?.startsWith("image/")) && mimeType !== "image/svg+xml"
  return `${pathPrefix}/${ROUTE}/${image ? "image" : "file"}/${digest(url)}`
}

/** @param {ImageArgs} args */
function imageArgs({ width, height, format, cropFocus, quality }) {
  const args = []
  if (width) args.push(`w=${width}`)
  if (height) args.push(`h=${height}`)
  if (cropFocus) args.push("fit=crop", `crop=${[cropFocus].flat().join(",")}`)
  args.push(`fm=${format}`, `q=${quality}`)
  return args.join("&")
}

/**
 * An image's address, as Gatsby's default generator writes it (the signature of a module Gatsby takes
 * as `imageCDNUrlGeneratorModulePath`).
 * @param {RemoteSource} source @param {ImageArgs} args @param {string} [pathPrefix]
 */
function generateImageUrl(source, args, pathPrefix = "") {
  const name = path.basename(source.filename, path.extname(source.filename))
  const query = imageArgs(args)
  const url = new URL(`${ORIGIN}${publicPath(source, pathPrefix)}/${digest(query)}/${name}.${args.format}`)
  appendSource(url.searchParams, source.url)
  url.searchParams.append("a", query)
  url.searchParams.append("cd", source.internal.contentDigest)
  return `${url.pathname}${url.search}`
}

/**
 * A file's address, as Gatsby's default generator writes it (`fileCDNUrlGeneratorModulePath`).
 * @param {{ url: string, filename: string, mimeType?: string }} source @param {string} [pathPrefix]
 */
function generateFileUrl(source, pathPrefix = "") {
  const extension = path.extname(source.filename)
  const name = path.basename(source.filename, extension)
  const url = new URL(`${ORIGIN}${publicPath({ url: source.url }, pathPrefix)}/${name}${extension}`)
  appendSource(url.searchParams, source.url)
  return `${url.pathname}${url.search}`
}

/**
 * What an address under the site's prefix asks for, or a reason it is not one of Gatsby's: its path's
 * digests must be those of its source and arguments, as Gatsby writes them.
 * @param {string} pathname the path without the prefix @param {URLSearchParams} query
 * @returns {Asked | { refused: string }}
 */
function readAddress(pathname, query) {
  const image = /^\/_gatsby\/image\/([0-9a-f]{32})\/([0-9a-f]{32})\/([^/]+)$/.exec(pathname)
  const file = /^\/_gatsby\/file\/([0-9a-f]{32})\/([^/]+)$/.exec(pathname)
  if (!image && !file) return { refused: "not an address of Gatsby's Image CDN or File CDN" }
  const url = sourceUrl(query)
  if (!url) return { refused: "no source (u, or eu with this server's key)" }
  const [, urlDigest] = /** @type {RegExpExecArray} */ (image ?? file)
  if (digest(url) !== urlDigest) return { refused: "the source is not the one the address names" }
  if (file) return { kind: "file", url, name: file[2] }
  const args = query.get("a") ?? ""
  const contentDigest = query.get("cd") ?? ""
  if (!image || digest(args) !== image[2])
    return { refused: "the arguments are not the ones the address names" }
  if (!/^[0-9a-f]{32}$/.test(contentDigest)) return { refused: "no content digest (cd)" }
  return { kind: "image", url, contentDigest, args: new URLSearchParams(args), name: image[3] }
}

/** @param {URLSearchParams} query @returns {string | undefined} */
function sourceUrl(query) {
  const plain = query.get("u")
  if (plain) return plain
  const encrypted = query.get("eu")
  const secret = encryption()
  if (!encrypted || !secret || !/^(?:[0-9a-f]{2})+$/.test(encrypted)) return undefined
  const decipher = createDecipheriv("aes-256-ctr", secret.key, secret.iv)
  const padded = Buffer.concat([decipher.update(Buffer.from(encrypted, "hex")), decipher.final()]).toString()
  const colon = padded.indexOf(":")
  return colon === -1 ? undefined : padded.slice(colon + 1)
}

/**
 * Gatsby's generator of either kind: it takes a module's default export as its image generator
 * (source, args, pathPrefix) and as its file generator (source, pathPrefix), and copies each module
 * alone into its engine (no module beside it is there to require): this one module is both.
 * @param {RemoteSource} source @param {ImageArgs | string} [argsOrPrefix] @param {string} [pathPrefix]
 */
function generateUrl(source, argsOrPrefix, pathPrefix) {
  return typeof argsOrPrefix === "object"
    ? generateImageUrl(source, argsOrPrefix, pathPrefix)
    : generateFileUrl(source, argsOrPrefix)
}

module.exports = { generateImageUrl, generateFileUrl, readAddress, digest, default: generateUrl }
