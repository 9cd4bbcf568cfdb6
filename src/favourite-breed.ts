import { parse, serialize } from "cookie"
import { parseBreedSlug, type Breed } from "./breed"

// A visitor's favourite breed, kept in a small cookie of its own: set by the Gatsby Function
// src/api/favourite-breed.ts, read by the page that depends on who asks, src/pages/for-you.tsx.

export const FAVOURITE_COOKIE = "favourite-breed"
// Half a year, then the visitor picks again: no cookie lives for ever.
const MAX_AGE_SECONDS = 180 * 24 * 60 * 60
// A breed slug is at most 40 characters; a Cookie header much longer than any this site sets is not
// read at all.
const MAX_COOKIE_HEADER = 4096

// The breed in a Cookie header, if it holds one that passes the breed pages' own rules. A missing,
// forged or oversized cookie is no favourite, never an error.
export function favouriteFromCookies(header: string | undefined): Breed | null {
  if (!header || header.length > MAX_COOKIE_HEADER) return null
  return parseBreedSlug(parse(header)[FAVOURITE_COOKIE])
}

// Set-Cookie for a favourite (a slug already checked), or, with null, to forget it. HttpOnly: no script
// reads it; SameSite=Lax: another site's requests do not carry it; Secure over https.
export function favouriteCookie(slug: string | null, { secure }: { secure: boolean }): string {
  return serialize(FAVOURITE_COOKIE, slug ?? "", {
    path: "/",
    maxAge: slug ? MAX_AGE_SECONDS : 0,
    httpOnly: true,
    sameSite: "lax",
    secure,
  })
}
