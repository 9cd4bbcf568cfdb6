import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"
import favouriteBreed from "../src/api/favourite-breed"

// The Gatsby Function behind the favourite-breed forms, called as Gatsby calls it, with the form parsed.
// (The browser tests post the real forms to it under every server.)

type Answer = { status: number; headers: Record<string, string | string[]>; body?: string; location?: string }

function post(
  body: Record<string, unknown> | undefined,
  headers: Record<string, string> = { "sec-fetch-site": "same-origin" },
  method = "POST",
): Answer {
  const answer: Answer = { status: 200, headers: {} }
  const res = {
    status(code: number) {
      answer.status = code
      return res
    },
    setHeader(name: string, value: string | string[]) {
      answer.headers[name.toLowerCase()] = value
      return res
    },
    send(text: string) {
      answer.body = text
    },
    redirect(status: number, location: string) {
      answer.status = status
      answer.location = location
      return res
    },
  }
  favouriteBreed(
    { method, body, headers: { host: "dogs.example", ...headers } } as unknown as GatsbyFunctionRequest,
    res as unknown as GatsbyFunctionResponse,
  )
  return answer
}

test("keeps a breed in a small cookie, and sends the visitor to the page that shows it (303)", () => {
  const answer = post({ breed: "hound-afghan" })

  expect(answer).toMatchObject({ status: 303, location: "/for-you/" })
  expect(answer.headers["set-cookie"]).toBe(
    "favourite-breed=hound-afghan; Max-Age=15552000; Path=/; HttpOnly; SameSite=Lax",
  )
})

test("marks the cookie Secure when the visitor came over https", () => {
  const answer = post({ breed: "pug" }, { "sec-fetch-site": "same-origin", "x-forwarded-proto": "https" })

  expect(answer.headers["set-cookie"]).toMatch(/; Secure;/)
})

test("forgets the favourite: the cookie expires at once", () => {
  const answer = post({ forget: "1" })

  expect(answer).toMatchObject({ status: 303, location: "/for-you/" })
  expect(answer.headers["set-cookie"]).toBe("favourite-breed=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
})

test.each([
  ["a slug the breed pages refuse", { breed: "Husky<script>" }],
  ["an overlong slug", { breed: "a".repeat(41) }],
  ["no breed", {}],
  ["no form at all", undefined],
])("answers 400, and sets no cookie, for %s", (_, body) => {
  const answer = post(body)

  expect(answer.status).toBe(400)
  expect(answer.headers["set-cookie"]).toBeUndefined()
})

test.each([
  ["Sec-Fetch-Site says another site", { "sec-fetch-site": "cross-site" }],
  ["Sec-Fetch-Site says a sibling site", { "sec-fetch-site": "same-site" }],
  ["only Origin, naming another site", { origin: "https://elsewhere.example" }],
])("answers 403, and sets no cookie, when %s", (_, headers) => {
  const answer = post({ breed: "husky" }, headers)

  expect(answer.status).toBe(403)
  expect(answer.headers["set-cookie"]).toBeUndefined()
})

test("takes a post whose Origin is the site's own", () => {
  expect(post({ breed: "husky" }, { origin: "http://dogs.example" }).status).toBe(303)
})

test("answers 405 with Allow to anything but POST", () => {
  const answer = post(undefined, {}, "GET")

  expect(answer.status).toBe(405)
  expect(answer.headers.allow).toBe("POST")
})
