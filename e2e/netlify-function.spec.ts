import { existsSync } from "node:fs"
import path from "node:path"
import { expect, test } from "./fixtures"

// The serverless function that gatsby-adapter-netlify builds for the SSR pages (only the serve project
// runs this file: it needs `gatsby build`, which the `build` fixture runs).

type NetlifyResponse = { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string }
type Handler = (event: object, context: object) => Promise<NetlifyResponse>

const functionPath = path.resolve(__dirname, "../.netlify/functions-internal/ssr-engine/ssr-engine.js")

// A request as Netlify hands it to the function.
async function invoke(
  apiUrl: string,
  pathname: string,
): Promise<{ status: number; cacheControl: string; html: string }> {
  const previous = process.env.DOG_API_URL
  process.env.DOG_API_URL = apiUrl
  try {
    const { handler } = (await import(functionPath)) as { handler: Handler }
    const response = await handler(
      {
        path: pathname,
        rawUrl: `https://example.netlify.app${pathname}`,
        httpMethod: "GET",
        multiValueHeaders: { accept: ["text/html"] },
        queryStringParameters: {},
      },
      {},
    )
    return {
      status: response.statusCode,
      cacheControl: response.multiValueHeaders["cache-control"]?.join(", ") ?? "",
      html: Buffer.from(response.body ?? "", "base64").toString("utf8"),
    }
  } finally {
    // Assigning undefined would store the string "undefined".
    if (previous === undefined) delete process.env.DOG_API_URL
    else process.env.DOG_API_URL = previous
  }
}

test("the production build includes the Netlify function", async ({ build }) => {
  void build // requested for its effect: `gatsby build` has run

  expect(existsSync(functionPath)).toBe(true)
})

test("the Netlify function answers /ssr/ with a dog", async ({ build, api }) => {
  void build // requested for its effect: `gatsby build` has run

  const { status, html } = await invoke(api.apiUrl, "/ssr/")

  expect(status).toBe(200)
  expect(html).toMatch(/<img class="dog" alt="Happy dog" src="http:\/\/127\.0\.0\.1:\d+\/images\/breeds\//)
})

test("the Netlify function answers 500 with no-store when the dog API fails", async ({ build, api }) => {
  void build // requested for its effect: `gatsby build` has run
  api.fail("http-500")

  const { status, cacheControl, html } = await invoke(api.apiUrl, "/ssr/")

  expect(status).toBe(500)
  expect(cacheControl).toBe("no-store")
  expect(html).toContain("No dog right now — try refreshing.")
})
