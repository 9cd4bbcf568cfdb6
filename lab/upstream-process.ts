import { spawn } from "node:child_process"

// upstream.ts in a process of its own, so that its work is not the site's or the load generator's.
export type Upstream = {
  apiUrl: string
  // A mode (ok, http-500, hang, big) or a latency ("latency 50"), as upstream.ts takes them.
  set(command: string): void
  stats(): Promise<{ requests: number }>
  stop(): void
}

export async function startUpstream(): Promise<Upstream> {
  const child = spawn(process.execPath, ["--import", "tsx", "upstream.ts"], {
    cwd: import.meta.dirname,
    stdio: ["pipe", "pipe", "inherit"],
  })
  const apiUrl = await new Promise<string>((resolve) =>
    child.stdout.once("data", (line) => resolve(String(line).trim())),
  )
  return {
    apiUrl,
    set: (command) => child.stdin.write(`${command}\n`),
    stats: () => fetch(apiUrl.replace(/\/api$/, "/_stats")).then((res) => res.json()),
    stop: () => child.stdin.end(),
  }
}
