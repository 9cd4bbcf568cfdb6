import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { createServer } from "node:net"
import path from "node:path"

// Starting and stopping Gatsby for the browser tests (and the optional lab/), with Gatsby's own commands
// as a person types them.

// From __filename: under tsx, when lab/ (ES modules) imports this file, __dirname is wrong.
export const root = path.resolve(path.dirname(__filename), "..")
const gatsbyCli = path.join(root, "node_modules/gatsby/cli.js")
const gatsbyEnv = { ...process.env, GATSBY_TELEMETRY_DISABLED: "1" }

// `gatsby build`, with no clean first: whatever gatsby develop left in public/ must not matter.
// `site` is the site's folder: this one, or a copy that the lab builds beside it.
export function buildSite(site = root): void {
  const build = spawnSync(process.execPath, [gatsbyCli, "build"], {
    cwd: site,
    env: gatsbyEnv,
    encoding: "utf8",
  })
  if (build.status !== 0) throw new Error(`gatsby build failed:\n${build.stdout}${build.stderr}`)
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

export type GatsbyServer = { url: string; pid: number; stop(): Promise<void> }

type StartOptions = {
  env?: NodeJS.ProcessEnv
  // Options for the server's own Node process, for example --cpu-prof.
  nodeOptions?: string[]
  site?: string
}

// `gatsby develop` or `gatsby serve` (after buildSite) on a free port of 127.0.0.1, once it answers.
export async function startGatsby(
  command: "develop" | "serve",
  { env = {}, nodeOptions = [], site = root }: StartOptions = {},
): Promise<GatsbyServer> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    process.execPath,
    [...nodeOptions, gatsbyCli, command, "-H", "127.0.0.1", "-p", String(port)],
    // Its own process group, so that stopping it also stops the workers gatsby starts.
    { cwd: site, env: { ...gatsbyEnv, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] },
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
        throw new Error(`gatsby ${command} exited (${exitCode}) before answering:\n${output}`)
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
  return { url, pid: child.pid!, stop }
}
