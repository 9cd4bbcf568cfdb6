import { readFileSync } from "node:fs"
import path from "node:path"
import { expect, test } from "../sites"

// Mirrors Gatsby's adapter suite: functions.cy.ts; then what Gatsby's compiled wrapper does with a
// request's body, which only a function that `gatsby build` compiled shows.

const routes = [
  ["static", ""],
  ["param", "dune"],
  ["wildcard", "atreides/harkonnen"],
  ["named-wildcard", "corinno/fenring"],
] as const

for (const [name, param] of routes) {
  test(`the ${name} function answers at its address, with its params`, async ({ request, configuration }) => {
    const response = await request.get(`${configuration.pathPrefix}/api/${name}${param ? `/${param}` : ""}`, {
      maxRedirects: 0,
    })

    expect(response.status()).toBe(200)
    expect(await response.text()).toBe(`Hello World${param ? ` from ${param}` : ""}`)
  })
}

type Echo = { method: string; query: object; body: unknown; files?: object[]; cookies: object }

const bodies: Array<[string, Record<string, string>, string, unknown]> = [
  ["a JSON body", { "content-type": "application/json" }, '{"dog":"pug"}', { dog: "pug" }],
  [
    "a form's fields",
    { "content-type": "application/x-www-form-urlencoded" },
    "dog=pug&age=3",
    { dog: "pug", age: "3" },
  ],
  ["a text body", { "content-type": "text/plain" }, "a pug", "a pug"],
  ["a raw body", { "content-type": "application/octet-stream" }, "\x01pug", { raw: "\x01pug" }],
]

for (const [what, headers, data, expected] of bodies) {
  test(`a function gets ${what}, parsed by Gatsby's wrapper`, async ({ request, configuration }) => {
    const response = await request.post(`${configuration.pathPrefix}/api/echo`, { headers, data })

    expect(response.status()).toBe(200)
    expect(((await response.json()) as Echo).body).toEqual(expected)
  })
}

test("a function gets a multipart upload's fields and files", async ({ request, configuration }) => {
  const icon = readFileSync(path.join(__dirname, "../.apps/basic/static/icon.svg"))
  const response = await request.post(`${configuration.pathPrefix}/api/echo`, {
    multipart: { breed: "pug", photo: { name: "icon.svg", mimeType: "image/svg+xml", buffer: icon } },
  })

  const echo = (await response.json()) as Echo
  expect(echo.body).toEqual({ breed: "pug" })
  expect(echo.files).toEqual([{ fieldname: "photo", originalname: "icon.svg", size: icon.length }])
})

test("a function's own bodyParser config decides how its body is parsed", async ({
  request,
  configuration,
}) => {
  const response = await request.post(`${configuration.pathPrefix}/api/custom-body`, {
    headers: { "content-type": "application/x-fixture" },
    data: "as text",
  })

  expect(await response.json()).toEqual({ body: "as text" })
})

test("a function gets the method, query and cookies", async ({ request, configuration }) => {
  const response = await request.get(`${configuration.pathPrefix}/api/echo?breed=pug&breed=husky`, {
    headers: { cookie: "favourite=pug; theme=dark" },
  })

  expect(await response.json()).toMatchObject({
    method: "GET",
    query: { breed: ["pug", "husky"] },
    cookies: { favourite: "pug", theme: "dark" },
  })
})

test("a function that fails answers with the 500 page, and the server serves on", async ({
  request,
  configuration,
  server,
}) => {
  const failed = await request.get(`${configuration.pathPrefix}/api/throws`)
  const after = await request.get(`${configuration.pathPrefix}/api/static`)

  expect(failed.status()).toBe(500)
  expect(await failed.text()).toContain("Internal server error (custom)")
  expect(server.output()).toContain("the function failed on purpose")
  expect(after.status()).toBe(200)
})

test("a function that throws in a timer answers with the 500 page, and its process stops as Node's does, gracefully", async ({
  configuration,
  ownServer,
}) => {
  const alone = await ownServer({ WEB_CONCURRENCY: "1" })

  const failed = await fetch(`${alone.url}${configuration.pathPrefix}/api/throws-later`)

  expect(failed.status).toBe(500)
  expect(await failed.text()).toContain("Internal server error (custom)")
  expect(await alone.exited).toBe(1)
  expect(alone.output()).toContain("thrown in a timer, on purpose")
  expect(alone.output()).toContain("uncaught exception: shutting down")
})

test("a body over 1 MB gets 413 before the function runs", async ({ request, configuration }) => {
  const response = await request.post(`${configuration.pathPrefix}/api/echo`, {
    headers: { "content-type": "text/plain" },
    data: "a".repeat(1024 * 1024 + 1),
  })

  expect(response.status()).toBe(413)
})
