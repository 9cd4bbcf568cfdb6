import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import path from "node:path"
import { expect, test as base, type Locator } from "@playwright/test"
import { startStandInApi, type StandInApi } from "../mocks/stand-in-api"

export type SiteOptions = { mode: "develop" | "serve" }

// Short, so that the hanging-API test ends quickly; the site's default is 5 s.
export const API_TIMEOUT_MS = 1000

const root = path.resolve(__dirname, "..")

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

type Gatsby = { child: ChildProcess; output: () => string; exited: Promise<number | null> }

function gatsby(args: string[], env: NodeJS.ProcessEnv = {}): Gatsby {
  const child = spawn(path.join(root, "node_modules/.bin/gatsby"), args, {
    cwd: root,
    env: { ...process.env, GATSBY_TELEMETRY_DISABLED: "1", ...env },
    // Its own process group, so that stopping it also stops the workers gatsby starts.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
  return { child, output: () => output, exited }
}

async function stop({ child, exited }: Gatsby): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  process.kill(-child.pid!, "SIGTERM")
  const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000)
  await exited
  clearTimeout(timer)
}

async function waitUntilUp(url: string, server: Gatsby): Promise<void> {
  let exitCode: number | null | undefined
  void server.exited.then((code) => (exitCode = code))
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`gatsby exited (${exitCode}) before answering:\n${server.output()}`)
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

type WorkerFixtures = SiteOptions & { api: StandInApi; site: string }
type TestFixtures = { problems: string[] }

export const test = base.extend<TestFixtures, WorkerFixtures>({
  mode: ["serve", { option: true, scope: "worker" }],

  // The stand-in dog API, in this worker's process, so that a test can make it fail.
  api: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const api = await startStandInApi()
      await use(api)
      await api.close()
    },
    { scope: "worker" },
  ],

  // The site, in the project's mode, asking the stand-in API for its dogs.
  site: [
    async ({ mode, api }, use) => {
      const port = await freePort()
      const runtime = { DOG_API_URL: api.apiUrl, DOG_API_TIMEOUT_MS: String(API_TIMEOUT_MS) }
      if (mode === "serve") {
        // `npm run build`, as a person runs it. Built without DOG_API_URL and served with it:
        // proves the engine reads it per request.
        const build = spawnSync("npm", ["run", "build"], {
          cwd: root,
          env: { ...process.env, GATSBY_TELEMETRY_DISABLED: "1" },
          encoding: "utf8",
        })
        if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`)
      }
      const args = mode === "serve" ? ["serve"] : ["develop"]
      const server = gatsby([...args, "-H", "127.0.0.1", "-p", String(port)], runtime)
      const url = `http://127.0.0.1:${port}`
      try {
        await waitUntilUp(`${url}/`, server)
        await use(url)
      } finally {
        await stop(server)
      }
    },
    { scope: "worker", timeout: 300_000 },
  ],

  baseURL: async ({ site }, use) => use(site),

  // Every test starts with a working API, whatever the test before it did.
  page: async ({ page, api }, use) => {
    api.fail(null)
    await use(page)
  },

  // What a person would see go wrong: console errors, page errors, failed or 4xx/5xx requests.
  problems: async ({ page }, use) => {
    const problems: string[] = []
    page.on("console", (message) => {
      if (message.type() === "error")
        problems.push(`console error: ${message.text()} ${message.location().url}`)
    })
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`))
    page.on("requestfailed", (request) =>
      problems.push(`failed: ${request.url()} ${request.failure()?.errorText}`),
    )
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`)
    })
    await use(problems)
  },
})

// An image that has loaded has a width; a broken one has none.
export async function expectLoaded(img: Locator): Promise<void> {
  await expect
    .poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth))
    .toBeGreaterThan(0)
}

export { expect }
