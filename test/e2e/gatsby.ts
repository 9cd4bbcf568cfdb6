import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { readFileSync } from "node:fs"
import { createServer } from "node:net"
import path from "node:path"

// Starting and stopping the site for the browser tests (and the optional lab/), with the commands a person
// types: Gatsby's own, and the optional Node server's (gatsby-adapter-node, `npm start`).

// From __filename: under tsx, when tools/lab/ (ES modules) imports this file, __dirname is wrong.
export const root = path.resolve(path.dirname(__filename), "../..")
const gatsbyCli = path.join(root, "node_modules/gatsby/cli.js")
const gatsbyEnv = { ...process.env, GATSBY_TELEMETRY_DISABLED: "1" }

// `gatsby build`, with no clean first: whatever gatsby develop left in public/ must not matter.
// `site` is the site's folder: this one, or a copy that the lab builds beside it.
export function buildSite(site = root, env: NodeJS.ProcessEnv = {}): void {
  const build = spawnSync(process.execPath, [gatsbyCli, "build"], {
    cwd: site,
    env: { ...gatsbyEnv, ...env },
    encoding: "utf8",
  })
  if (build.status !== 0) throw new Error(`gatsby build failed:\n${build.stdout}${build.stderr}`)
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

// Whether the site serves its build with gatsby-adapter-node (`npm start`): a fork that removed that
// dependency has no Node server to test or measure.
export function usesNodeAdapter(site = root): boolean {
  const { dependencies = {} } = JSON.parse(readFileSync(path.join(site, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>
  }
  return "gatsby-adapter-node" in dependencies
}

// gatsby develop; gatsby serve; or `npm start`, the server of gatsby-adapter-node's build.
export type SiteMode = "develop" | "serve" | "node"

export type SiteServer = {
  url: string
  pid: number
  // Its exit code, once it has exited.
  exited: Promise<number | null>
  // What it has printed so far.
  output(): string
  stop(): Promise<void>
}

type StartOptions = {
  env?: NodeJS.ProcessEnv
  // Options for the server's own Node process, for example --cpu-prof.
  nodeOptions?: string[]
  site?: string
}

// The site in a mode (production ones after buildSite) on a free port of 127.0.0.1, once it answers.
export async function startSite(
  mode: SiteMode,
  { env = {}, nodeOptions = [], site = root }: StartOptions = {},
): Promise<SiteServer> {
  const port = await freePort()
  const [command, serverEnv] =
    mode === "node"
      ? [
          [path.join(site, "node_modules/.bin/gatsby-adapter-node")],
          { PORT: String(port), HOST: "127.0.0.1" },
        ]
      : [[gatsbyCli, mode, "-H", "127.0.0.1", "-p", String(port)], {}]
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeOptions, ...command],
    // Its own process group, so that stopping it also stops the workers gatsby starts.
    {
      cwd: site,
      env: { ...gatsbyEnv, ...serverEnv, ...env },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  let output = ""
  child.stdout?.on("data", (chunk) => (output += chunk))
  child.stderr?.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    process.kill(-child.pid!, "SIGTERM")
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 10_000)
    await exited
    clearTimeout(timer)
  }

  const url = `http://127.0.0.1:${port}`
  let exitCode: number | null | undefined
  void exited.then((code) => (exitCode = code))
  try {
    for (;;) {
      if (exitCode !== undefined)
        throw new Error(`${command.join(" ")} exited (${exitCode}) before answering:\n${output}`)
      const up = await fetch(`${url}/`).then(
        (res) => res.ok,
        () => false,
      )
      if (up) break
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { url, pid: child.pid!, exited, output: () => output, stop }
}
