import { spawnSync } from "node:child_process"
import { request as httpRequest, type IncomingHttpHeaders } from "node:http"
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { expect, test as base } from "@playwright/test"
import { attachOutputOnFailure, startServer, type RunningServer } from "test-harness"
import { STANDALONE_DIR } from "../src/standalone"

// The fixture sites (.apps/), each built in the configuration of a Playwright project, in a copy of its
// own outside this repository (SITES/<project>/) with the packed adapter installed as a user installs it
// (global-setup.ts; the copy's node_modules are hard links to that install), and served as a host runs
// it: its standalone folder alone, copied into an empty temporary folder (so that no node_modules of
// the site's can stand in for a file it lacks), by `node server.js`. `gatsby serve` serves the same
// build beside it, for the suite that compares the two.

// The fixture sites sit in .apps/, a folder whose name starts with a dot, because Gatsby reads GraphQL
// queries from every file of a dependency with "gatsby" in its name (gatsby-dependents), but for
// node_modules and dot folders: a site that uses this package from its folder (this repository's, as a
// workspace) would take the fixtures' queries for its own, and fail on their fields.

// Where global-setup.ts leaves the install, and what it says of the tarball (its files and bytes).
export const INSTALL_ENV = "GATSBY_ADAPTER_NODE_INSTALL"
export const PACKED_ENV = "GATSBY_ADAPTER_NODE_PACKED"
export const SITES = path.join(os.tmpdir(), "gatsby-adapter-node-sites")

export type Configuration = {
  // The fixture site, a folder of .apps/.
  app: string
  trailingSlash: "always" | "never" | "ignore"
  pathPrefix: string
  // The adapter's imageCDN option, where not its default.
  imageCDN?: "request"
}

const env = { ...process.env, GATSBY_TELEMETRY_DISABLED: "1" }
const gatsby = (site: string) => path.join(site, "node_modules/gatsby/cli.js")

// A copy of a fixture site in `dir`, with the packed adapter installed, as a user's site has it.
export function copySite(app: string, dir: string): void {
  cpSync(path.join(__dirname, ".apps", app), dir, {
    recursive: true,
    filter: (source) => !/[/\\](\.cache|public|node_modules)$/.test(source),
  })
  const install = process.env[INSTALL_ENV]
  if (!install) throw new Error(`${INSTALL_ENV} is not set: global-setup.ts installs the packed adapter`)
  const linked = spawnSync("cp", ["-al", path.join(install, "node_modules"), path.join(dir, "node_modules")])
  if (linked.status !== 0) throw new Error(`cp -al failed: ${linked.stderr}`)
}

// A copy is built once per run (global-setup.ts clears them); a worker that restarts after a failed
// test reuses it.
function buildCopy(name: string, { app, trailingSlash, pathPrefix, imageCDN }: Configuration): string {
  const copy = path.join(SITES, name.replace(/[^\w-]+/g, "-"))
  if (existsSync(path.join(copy, ".cache/node-server/routes.json"))) return copy
  rmSync(copy, { recursive: true, force: true })
  mkdirSync(SITES, { recursive: true })
  copySite(app, copy)
  const build = spawnSync(
    process.execPath,
    [gatsby(copy), "build", ...(pathPrefix ? ["--prefix-paths"] : [])],
    {
      cwd: copy,
      env: { ...env, TRAILING_SLASH: trailingSlash, PATH_PREFIX: pathPrefix, IMAGE_CDN: imageCDN ?? "" },
      encoding: "utf8",
    },
  )
  if (build.status !== 0) throw new Error(`gatsby build (${name}) failed:\n${build.stdout}${build.stderr}`)
  return copy
}

export type Server = Pick<RunningServer, "url" | "output">

// The copy's standalone folder in a temporary folder of its own, served by `node server.js`; the folder
// is removed when it stops.
async function startStandalone(copy: string, extraEnv: NodeJS.ProcessEnv): Promise<RunningServer> {
  const host = mkdtempSync(path.join(os.tmpdir(), "gatsby-adapter-node-standalone-"))
  cpSync(path.join(copy, STANDALONE_DIR), host, { recursive: true, verbatimSymlinks: true })
  for (let dir = path.dirname(host); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "node_modules"))) throw new Error(`${dir} has a node_modules folder`)
  }
  try {
    const server = await startServer(process.execPath, ["server.js"], {
      cwd: host,
      env: extraEnv,
      ready: (url) => `${url}/healthz`,
      deadlineMs: 60_000,
    })
    return {
      ...server,
      stop: () => server.stop().finally(() => rmSync(host, { recursive: true, force: true })),
    }
  } catch (error) {
    rmSync(host, { recursive: true, force: true })
    throw error
  }
}

// The header in which the suite plays a CDN that names the visitor's country.
export const COUNTRY_HEADER = "x-test-country"

type WorkerFixtures = {
  configuration: Configuration
  // The built copy's folder.
  site: string
  server: Server
  // `gatsby serve` on the same build.
  serve: Server
}
type TestFixtures = {
  // A path of the site as a link in it names it: under the prefix, in the trailingSlash form.
  at(sitePath: string): string
  serverLog: void
  // A server of the test's own on the same build (from a copy of its standalone folder), with these
  // settings: for a test that stops it.
  ownServer(env: NodeJS.ProcessEnv): Promise<RunningServer>
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  configuration: [
    { app: "basic", trailingSlash: "always", pathPrefix: "" },
    { option: true, scope: "worker" },
  ],
  site: [
    async ({ configuration }, use, workerInfo) => use(buildCopy(workerInfo.project.name, configuration)),
    { scope: "worker", timeout: 300_000 },
  ],
  server: [
    async ({ site }, use) => {
      const server = await startStandalone(site, { COUNTRY_HEADER })
      try {
        await use(server)
      } finally {
        await server.stop()
      }
    },
    { scope: "worker", timeout: 60_000 },
  ],
  serve: [
    async ({ site, configuration: { pathPrefix } }, use) => {
      const args = [
        gatsby(site),
        "serve",
        "-H",
        "127.0.0.1",
        "-p",
        "$PORT",
        ...(pathPrefix ? ["--prefix-paths"] : []),
      ]
      const serve = await startServer(process.execPath, args, {
        cwd: site,
        ready: (url) => `${url}${pathPrefix}/`,
        deadlineMs: 60_000,
      })
      try {
        await use(serve)
      } finally {
        await serve.stop()
      }
    },
    { scope: "worker", timeout: 60_000 },
  ],
  ownServer: async ({ site }, use) => {
    const started: RunningServer[] = []
    try {
      await use(async (env) => {
        const server = await startStandalone(site, env)
        started.push(server)
        return server
      })
    } finally {
      await Promise.all(started.map((server) => server.stop()))
    }
  },
  baseURL: async ({ server }, use) => use(server.url),
  at: async ({ configuration: { trailingSlash, pathPrefix } }, use) =>
    use((sitePath) => `${pathPrefix}${withTrailingSlash(sitePath, trailingSlash)}`),
  // What the server printed during a test that failed, in its report.
  serverLog: [
    async ({ server }, use, testInfo) => attachOutputOnFailure(server, use, testInfo),
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
// (Each fixture's gatsby-browser marks it.)
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
