import type { GetServerDataProps } from "gatsby"
import { http, HttpResponse } from "msw"
import { failures } from "./mocks/handlers"
import { server } from "./mocks/node"
import { getServerData } from "../src/pages/for-you"

// The page that depends on who asks, called as Gatsby calls it: the request's headers as a Map.
function visit(cookie?: string, method = "GET") {
  const headers = new Map<string, unknown>(cookie === undefined ? [] : [["cookie", cookie]])
  return getServerData({ method, headers } as unknown as GetServerDataProps)
}

const PERSONAL = { "Cache-Control": "private, no-store", Vary: "Cookie" }

let consoleWarn: jest.SpyInstance
beforeEach(() => {
  consoleWarn = jest.spyOn(console, "warn").mockImplementation(() => {})
})
afterEach(() => consoleWarn.mockRestore())

test("shows a dog of the favourite breed that the visitor's cookie names", async () => {
  const result = await visit("theme=dark; favourite-breed=hound-afghan")

  expect(result).toEqual({
    headers: PERSONAL,
    props: { breed: { main: "hound", sub: "afghan" }, message: expect.stringContaining("/hound-afghan/") },
  })
})

test("shows a random dog to a visitor with no favourite", async () => {
  const result = await visit()

  expect(result).toEqual({ headers: PERSONAL, props: { message: expect.any(String) } })
})

test.each([
  ["forged", "favourite-breed=%3Cscript%3E"],
  ["oversized", `favourite-breed=${"a".repeat(5000)}`],
  ["an oversized header", `favourite-breed=husky; junk=${"x".repeat(5000)}`],
  ["malformed", "favourite-breed"],
])("ignores a %s cookie: a random dog, never an error", async (_, cookie) => {
  const result = await visit(cookie)

  expect(result).toEqual({ headers: PERSONAL, props: { message: expect.any(String) } })
})

test("ignores a favourite that the dog API does not know (404): a random dog", async () => {
  const result = await visit("favourite-breed=unicorn")

  expect(result).toEqual({ headers: PERSONAL, props: { message: expect.any(String) } })
})

test("answers 500 that no cache keeps when the dog API fails", async () => {
  server.use(failures["http-500"])

  const result = await visit("favourite-breed=husky")

  expect(result).toEqual({ status: 500, headers: PERSONAL, props: {} })
  expect(consoleWarn).toHaveBeenCalledWith(expect.stringMatching(/^\[\/for-you\/\] no dog: /))
})

test("asks the dog API for the favourite breed only, once", async () => {
  const asked: string[] = []
  server.use(
    http.get("https://dog.ceo/api/breed/husky/images/random", ({ request }) => {
      asked.push(request.url)
      return HttpResponse.json({ message: "https://images.dog.ceo/breeds/husky/n1.jpg", status: "success" })
    }),
  )

  await visit("favourite-breed=husky")

  expect(asked).toEqual(["https://dog.ceo/api/breed/husky/images/random"])
})
