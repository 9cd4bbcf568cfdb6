import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import path from "node:path"
import { expect, test as base } from "./fixtures"

// The serverless function that gatsby-adapter-netlify builds for the SSR pages (only the netlify project
// runs this file: it needs `gatsby build` with NETLIFY=true, which the `build` fixture runs).

// These tests call the function, not a server: no gatsby serve to start, so no server output to attach.
// eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
const test = base.extend({ serverLog: async ({}, use) => use() })

type NetlifyResponse = { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string }

const functionPath = path.resolve(__dirname, "../.netlify/functions-internal/ssr-engine/ssr-engine.js")

// Loads the function and hands it one event, in a Node process of its own, as Netlify runs it. Loaded
// in the test's process, Playwright would first compile the 3 MB engine with Babel (20 s or more).
// It writes the response to its file descriptor 3: not IPC, which Gatsby's reporter would take over.
const runFunction = `
const [functionPath, event] = process.argv.slice(1)
require(functionPath).handler(JSON.parse(event), {}).then((response) => {
  const out = new (require("node:net").Socket)({ fd: 3 })
  out.end(JSON.stringify(response), () => process.exit())
})
`

// A request as Netlify hands it to the function.
async function invoke(
  apiUrl: string,
  pathname: string,
): Promise<{ status: number; cacheControl: string; html: string }> {
  const event = {
    path: pathname,
    rawUrl: `https://example.netlify.app${pathname}`,
    httpMethod: "GET",
    multiValueHeaders: { accept: ["text/html"] },
    queryStringParameters: {},
  }
  const child = spawn(process.execPath, ["-e", runFunction, functionPath, JSON.stringify(event)], {
    env: { ...process.env, DOG_API_URL: apiUrl },
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  })
  let output = ""
  let response = ""
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  child.stdio[3]?.on("data", (chunk) => (response += chunk))
  // Stopped whatever happens, also when the test times out waiting.
  try {
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve))
    if (!response) throw new Error(`the function exited (${code}) with no response:\n${output}`)
    const { statusCode, multiValueHeaders, body } = JSON.parse(response) as NetlifyResponse
    return {
      status: statusCode,
      cacheControl: multiValueHeaders["cache-control"]?.join(", ") ?? "",
      html: Buffer.from(body ?? "", "base64").toString("utf8"),
    }
  } finally {
    child.kill()
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
