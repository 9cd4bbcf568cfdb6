import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import path from "node:path"
import { startServer, type RunningServer } from "./processes"

// A Gatsby site's commands, as a person types them in the site's folder (`site`): Gatsby's own, and
// the Node server of gatsby-adapter-node (`npm start`), each with the site's own install.

const gatsbyEnv = { GATSBY_TELEMETRY_DISABLED: "1" }
const gatsbyCli = (site: string) => path.join(site, "node_modules/gatsby/cli.js")

// `gatsby build`, with no clean first: whatever gatsby develop left in public/ must not matter.
export function buildSite(site: string, env: NodeJS.ProcessEnv = {}): void {
  const build = spawnSync(process.execPath, [gatsbyCli(site), "build"], {
    cwd: site,
    env: { ...process.env, ...gatsbyEnv, ...env },
    encoding: "utf8",
  })
  if (build.status !== 0) throw new Error(`gatsby build failed:\n${build.stdout}${build.stderr}`)
}

// Whether the site serves its build with gatsby-adapter-node (`npm start`): a fork that removed that
// dependency has no Node server to test or measure.
export function usesNodeAdapter(site: string): boolean {
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(site, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>
  }
  return "gatsby-adapter-node" in dependencies
}

// gatsby develop; gatsby serve; or `npm start`, the server of gatsby-adapter-node's build.
export type SiteMode = "develop" | "serve" | "node"

type StartOptions = {
  env?: NodeJS.ProcessEnv
  // Options for the server's own Node process, for example --cpu-prof.
  nodeOptions?: string[]
}

// The site in a mode (production ones after buildSite) on a free port of 127.0.0.1, once it answers.
export function startSite(
  site: string,
  mode: SiteMode,
  { env = {}, nodeOptions = [] }: StartOptions = {},
): Promise<RunningServer> {
  const command =
    mode === "node"
      ? [path.join(site, "node_modules/.bin/gatsby-adapter-node")]
      : [gatsbyCli(site), mode, "-H", "127.0.0.1", "-p", "$PORT"]
  return startServer(process.execPath, [...nodeOptions, ...command], {
    cwd: site,
    // One worker, unless a test asks for more: the Node server's default is one per core.
    env: { ...gatsbyEnv, ...(mode === "node" && { WEB_CONCURRENCY: "1" }), ...env },
    deadlineMs: 300_000,
  })
}
