import { spawn, type ChildProcess } from "node:child_process"

// The bench's helpers in processes of their own, so that their work is not the site's or the load
// generator's: the upstream (upstream.ts), and the servers it holds the site's against (floor.ts,
// engine-alone.ts).
export type Upstream = {
  apiUrl: string
  // A mode (ok, http-500, hang, big) or a latency ("latency 50"), as upstream.ts takes them.
  set(command: string): void
  stats(): Promise<{ requests: number }>
  stop(): void
}

export async function startUpstream(): Promise<Upstream> {
  const { child, url: apiUrl } = await startScript("upstream.ts")
  return {
    apiUrl,
    set: (command) => child.stdin!.write(`${command}\n`),
    stats: () => fetch(apiUrl.replace(/\/api$/, "/_stats")).then((res) => res.json()),
    stop: () => child.stdin!.end(),
  }
}

export type LabServer = { url: string; pid: number; stop(): void }

export async function startLabServer(script: string, env: NodeJS.ProcessEnv): Promise<LabServer> {
  const { child, url } = await startScript(script, env)
  return { url, pid: child.pid!, stop: () => child.stdin!.end() }
}

// A script of the lab that prints its URL once it listens, and ends when its standard input does: when
// it is stopped, or when this process ends in any way.
async function startScript(
  script: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: import.meta.dirname,
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "inherit"],
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once("data", (line) => resolve(String(line).trim()))
    child.once("exit", (code) => reject(new Error(`lab/${script} exited (${code}) before it listened`)))
  })
  return { child, url }
}
