import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"
import { breedSlug, parseBreedSlug } from "../breed"
import { favouriteCookie } from "../favourite-breed"

// POST /api/favourite-breed, from the form on a breed page (breed=<slug>) or on /for-you/ (forget=1),
// with or without JavaScript: keeps the visitor's favourite breed in a cookie, or forgets it, and sends
// the visitor to the page that shows it (303, so that a reload does not post again).

type Form = { breed?: unknown; forget?: unknown }

const PAGE = "/for-you/"

// A form posted from another site (Sec-Fetch-Site, which browsers send, or else an Origin that is not
// this site's) must not choose for the visitor. A request with neither is not a browser's: it may.
function crossSite(req: GatsbyFunctionRequest): boolean {
  const site = req.headers["sec-fetch-site"]
  if (site) return site !== "same-origin" && site !== "none"
  const origin = req.headers.origin
  return origin !== undefined && origin !== `${protocol(req)}//${req.headers.host}`
}

// https behind a proxy or CDN that says so (Netlify, a load balancer), or on a TLS socket of its own.
function protocol(req: GatsbyFunctionRequest): "https:" | "http:" {
  const forwarded = req.headers["x-forwarded-proto"]
  const tls = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true
  return forwarded === "https" || tls ? "https:" : "http:"
}

function refuse(res: GatsbyFunctionResponse, status: number, message: string): void {
  res.status(status).setHeader("Content-Type", "text/plain; charset=utf-8")
  res.send(`${message}\n`)
}

export default function favouriteBreed(
  req: GatsbyFunctionRequest<Form | undefined>,
  res: GatsbyFunctionResponse,
) {
  res.setHeader("Cache-Control", "no-store")
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST")
    return refuse(res, 405, "Choose a favourite breed with the form on its page.")
  }
  if (crossSite(req)) return refuse(res, 403, "A favourite breed is chosen on this site only.")

  const secure = protocol(req) === "https:"
  if (req.body?.forget !== undefined) {
    res.setHeader("Set-Cookie", favouriteCookie(null, { secure }))
    return res.redirect(303, PAGE)
  }
  // The breed pages' own rules: anything else never becomes a cookie.
  const breed = parseBreedSlug(req.body?.breed)
  if (!breed) return refuse(res, 400, "That is not a breed name, such as husky or hound-afghan.")
  res.setHeader("Set-Cookie", favouriteCookie(breedSlug(breed), { secure }))
  return res.redirect(303, PAGE)
}
