// @ts-check
// The remote source of an image or file, fetched as an image proxy must fetch it (imgproxy's and
// Next.js's rules): only from an address the build allows (remoteFileAllowedUrls, as Gatsby's
// addRemoteFileAllowedUrl gave them, matched as URLPatterns by urlpattern-polyfill), the URL parsed once
// and requested as it was matched (WHATWG's parse: dot segments, %2e%2e included, resolved; no userinfo;
// the pattern's port or none); a host the allow-list names by name refused when it resolves to a
// loopback, private or link-local address (one the allow-list names by its address, as a test's server
// or an intranet CMS, is allowed), and the connection made to the address that was checked, so that a
// second look-up cannot rebind it; a few redirects, each one checked the same way; a timeout on the whole
// download; and a cap on its bytes. Nothing leaves the server for an address that fails a check.
const dns = require("node:dns/promises")
const http = require("node:http")
const https = require("node:https")
const { isIP } = require("node:net")
const ipaddr = require("ipaddr.js")
const { URLPattern } = require("urlpattern-polyfill/urlpattern")
const { RefusedError } = require("./errors")

/**
 * @typedef {{ body: Buffer, type: string | undefined }} Source
 * @typedef {{ allowed: string[], timeoutMs: number, maxBytes: number, maxRedirects: number,
 *   lookup?: (hostname: string) => Promise<Array<{ address: string, family: number }>> }} SourceOptions
 *   allowed: the build's remoteFileAllowedUrls, as URL patterns; lookup: the system's resolver by default
 */

// A hostname that is an address, or the machine's own name: named by the allow-list, it may be private.
/** @param {string} hostname */
const namesAnAddress = (hostname) => hostname === "localhost" || isIP(hostname.replace(/^\[|\]$/g, "")) !== 0

/** @param {string} address */
function isPublic(address) {
  let parsed = ipaddr.parse(address)
  if (parsed.kind() === "ipv6" && /** @type {import("ipaddr.js").IPv6} */ (parsed).isIPv4MappedAddress())
    parsed = /** @type {import("ipaddr.js").IPv6} */ (parsed).toIPv4Address()
  return parsed.range() === "unicast"
}

/** @param {SourceOptions} options */
function createSourceFetcher({
  allowed,
  timeoutMs,
  maxBytes,
  maxRedirects,
  lookup = (hostname) => dns.lookup(hostname, { all: true }),
}) {
  const patterns = allowed.flatMap((pattern) => {
    try {
      const parsed = new URLPattern(pattern)
      // The pattern's host as written (a wildcard in it names no address): an address, or the
      // machine's name, whatever the port and path (http://127.0.0.1:*/images/*, say).
      return [{ pattern: parsed, byAddress: namesAnAddress(parsed.hostname) }]
    } catch {
      return []
    }
  })

  /**
   * Whether a URL may be fetched, and if so whether a private address is allowed for it.
   * @param {URL} url @returns {{ byAddress: boolean } | undefined}
   */
  const allowedFor = (url) => {
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password)
      return undefined
    return patterns.find(({ pattern }) => pattern.test(url.href))
  }

  /**
   * The address to connect to for a URL the allow-list let through.
   * @param {URL} url @param {boolean} byAddress
   */
  const addressOf = async (url, byAddress) => {
    const hostname = url.hostname.replace(/^\[|\]$/g, "")
    const addresses = isIP(hostname)
      ? [{ address: hostname, family: isIP(hostname) }]
      : await lookup(hostname).catch(() => {
          throw new RefusedError(`${url.host} does not resolve`, 502, "unresolved")
        })
    if (!byAddress && addresses.some(({ address }) => !isPublic(address)))
      throw new RefusedError(`${url.host} resolves to an address that is not public`, 403, "private address")
    return addresses[0]
  }

  /**
   * One GET, its answer's status and headers, and its body if 200.
   * @param {URL} url @param {{ address: string, family: number }} address @param {number} deadline
   * @returns {Promise<{ status: number, location?: string, type?: string, body?: Buffer }>}
   */
  const get = (url, address, deadline) =>
    new Promise((resolve, reject) => {
      const client = url.protocol === "https:" ? https : http
      const req = client.get(
        url,
        {
          // The address checked above, not a second look-up.
          lookup: (_host, options, callback) =>
            /** @type {{ all?: boolean }} */ (options).all
              ? /** @type {(error: null, addresses: Array<{ address: string, family: number }>) => void} */ (
                  /** @type {unknown} */ (callback)
                )(null, [address])
              : callback(null, address.address, address.family),
          headers: { accept: "image/*,*/*;q=0.8", "user-agent": "gatsby-adapter-node" },
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0
          if (status !== 200) {
            res.resume()
            return resolve({ status, location: res.headers.location })
          }
          const declared = Number(res.headers["content-length"])
          if (declared > maxBytes) {
            req.destroy()
            return reject(new RefusedError(`${url.host}'s file is over ${maxBytes} bytes`, 502, "too large"))
          }
          /** @type {Buffer[]} */
          const chunks = []
          let size = 0
          res.on("data", (/** @type {Buffer} */ chunk) => {
            size += chunk.length
            if (size > maxBytes) {
              req.destroy()
              reject(new RefusedError(`${url.host}'s file is over ${maxBytes} bytes`, 502, "too large"))
            } else chunks.push(chunk)
          })
          res.on("end", () =>
            resolve({ status, type: res.headers["content-type"], body: Buffer.concat(chunks) }),
          )
          res.on("error", (error) =>
            reject(new RefusedError(`${url.host}: ${error.message}`, 502, "network")),
          )
        },
      )
      const timer = setTimeout(() => {
        req.destroy()
        reject(new RefusedError(`${url.host} did not send the file within ${timeoutMs} ms`, 504, "timeout"))
      }, deadline - Date.now())
      req.on("close", () => clearTimeout(timer))
      req.on("error", (error) => reject(new RefusedError(`${url.host}: ${error.message}`, 502, "network")))
    })

  /**
   * The source at a URL, following at most maxRedirects redirects, each to an allowed address.
   * @param {string} asked @returns {Promise<Source>}
   */
  const fetchSource = async (asked) => {
    const deadline = Date.now() + timeoutMs
    let url = URL.parse(asked)
    for (let hops = 0; url; hops++) {
      const allow = allowedFor(url)
      if (!allow) throw new RefusedError(`${url.href} is not an address the build allows`, 403, "not allowed")
      const answer = await get(url, await addressOf(url, allow.byAddress), deadline)
      if (answer.body) return { body: answer.body, type: answer.type }
      const redirected = answer.status >= 300 && answer.status < 400 && answer.location
      if (!redirected)
        throw new RefusedError(`${url.host} answered ${answer.status}`, 502, `HTTP ${answer.status}`)
      if (hops >= maxRedirects) throw new RefusedError(`${url.host} redirected too often`, 502, "redirects")
      url = URL.parse(answer.location ?? "", url)
    }
    throw new RefusedError(`${asked} is not a URL`, 400, "not a URL")
  }

  return {
    fetchSource,
    allows: (/** @type {string} */ url) => Boolean(URL.canParse(url) && allowedFor(new URL(url))),
  }
}

module.exports = { createSourceFetcher }
