import { spawn, spawnSync } from "node:child_process"
import { request as httpRequest, type IncomingHttpHeaders } from "node:http"
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import os from "node:os"
import path from "node:path"
import { expect, test as base } from "@playwright/test"
import { STANDALONE_DIR } from "../src/standalone"

// The fixture site (apps/basic), built by the adapter in one configuration per Playwright project, each in
// a copy of its own (.builds/<project>/, beside apps/ so that its packages resolve the same way), and
// served as a host runs it: its standalone folder alone, copied out of the repository into an empty
// temporary folder (so that no node_modules of the repository's can stand in for a file it lacks), by
// `node server.js`.

export type Configuration = { trailingSlash: "always" | "never" | "ignore"; pathPrefix: string }

const gatsbyCli = require.resolve("gatsby/cli.js")
const env = { ...process.env, GATSBY_TELEMETRY_DISABLED: "1" }

// A copy is built once per run (global-setup.ts clears them); a worker that restarts after a failed
// test reuses it.
function buildCopy(name: string, { trailingSlash, pathPrefix }: Configuration): string {
  const copy = path.join(__dirname, ".builds", name)
  if (existsSync(path.join(copy, ".cache/node-server/routes.json"))) return copy
  rmSync(copy, { recursive: true, force: true })
  cpSync(path.join(__dirname, "apps/basic"), copy, {
    recursive: true,
    filter: (source) => !/[/\\](\.cache|public)$/.test(source),
  })
  const build = spawnSync(process.execPath, [gatsbyCli, "build", ...(pathPrefix ? ["--prefix-paths"] : [])], {
    cwd: copy,
    env: { ...env, TRAILING_SLASH: trailingSlash, PATH_PREFIX: pathPrefix },
    encoding: "utf8",
  })
  if (build.status !== 0) throw new Error(`gatsby build (${name}) failed:\n${build.stdout}${build.stderr}`)
  return copy
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

type Server = { origin: string; output(): string }

// The copy's standalone folder in a temporary folder of its own, served by `node server.js` on a free
// port once /healthz answers; stopped with SIGTERM after the worker, and the folder removed.
async function startServer(
  copy: string,
  extraEnv: NodeJS.ProcessEnv,
): Promise<Server & { stop(): Promise<void> }> {
  const host = mkdtempSync(path.join(os.tmpdir(), "node-adapter-standalone-"))
  cpSync(path.join(copy, STANDALONE_DIR), host, { recursive: true, verbatimSymlinks: true })
  const port = await freePort()
  for (let dir = path.dirname(host); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "node_modules"))) throw new Error(`${dir} has a node_modules folder`)
  }
  const child = spawn(process.execPath, ["server.js"], {
    cwd: host,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  })
  let output = ""
  child.stdout.on("data", (chunk) => (output += chunk))
  child.stderr.on("data", (chunk) => (output += chunk))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
    rmSync(host, { recursive: true, force: true })
  }
  const origin = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(host, { recursive: true, force: true })
      throw new Error(`server.js exited (${child.exitCode}) before answering:\n${output}`)
    }
    if (
      await fetch(`${origin}/healthz`).then(
        (res) => res.ok,
        () => false,
      )
    )
      break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { origin, output: () => output, stop }
}

// The header in which the suite plays a CDN that names the visitor's country.
export const COUNTRY_HEADER = "x-test-country"

type WorkerFixtures = { configuration: Configuration; server: Server }
type TestFixtures = {
  // A path of the site as a link in it names it: under the prefix, in the trailingSlash form.
  at(sitePath: string): string
  serverLog: void
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  configuration: [
    { trailingSlash: "always", pathPrefix: "" },
    { option: true, scope: "worker" },
  ],
  server: [
    async ({ configuration }, use, workerInfo) => {
      const copy = buildCopy(workerInfo.project.name, configuration)
      const server = await startServer(copy, { COUNTRY_HEADER })
      try {
        await use(server)
      } finally {
        await server.stop()
      }
    },
    { scope: "worker", timeout: 300_000 },
  ],
  baseURL: async ({ server }, use) => use(server.origin),
  at: async ({ configuration: { trailingSlash, pathPrefix } }, use) =>
    use((sitePath) => `${pathPrefix}${withTrailingSlash(sitePath, trailingSlash)}`),
  // What the server printed during a test that failed, in its report.
  serverLog: [
    async ({ server }, use, testInfo) => {
      const before = server.output().length
      await use()
      if (testInfo.status !== testInfo.expectedStatus) {
        await testInfo.attach("server output", { body: server.output().slice(before) || "(nothing)" })
      }
    },
    { auto: true },
  ],
})

// A page's address as Gatsby writes it under trailingSlash ("ignore" keeps it as written).
export function withTrailingSlash(sitePath: string, trailingSlash: Configuration["trailingSlash"]): string {
  if (sitePath === "/" || trailingSlash === "ignore") return sitePath
  const [pathname, rest = ""] = sitePath.split(/(?=[?#])/)
  const slashed = trailingSlash === "always" ? pathname.replace(/\/?$/, "/") : pathname.replace(/\/$/, "")
  return `${slashed}${rest}`
}

// Gatsby's client has taken over the page: links navigate without a full page load from here on.
// (apps/basic/gatsby-browser.ts marks it.)
export async function waitForHydration(page: import("@playwright/test").Page): Promise<void> {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" })
}

// A GET with the request target sent as it is: an absolute-form one (http://host/path) too, which
// browsers and Playwright's client never send.
export function getTarget(
  origin: string,
  target: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const { hostname, port } = new URL(origin)
  return new Promise((resolve, reject) => {
    httpRequest({ host: hostname, port, path: target, agent: false }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
      .on("error", reject)
      .end()
  })
}

export { expect }
