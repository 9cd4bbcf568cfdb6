import { spawn, type SpawnOptions } from "node:child_process"
import { createServer } from "node:net"

// Servers for tests, each in a process group of its own (a shell and what it starts, or gatsby and its
// workers), stopped by signalling the group, so that nothing is left running when a test ends or fails.

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

// Every server started and not yet exited, stopped when this process exits: a test that times out
// while its server starts never gets the server to stop.
const running = new Set<number>()
process.once("exit", () => {
  for (const pid of running) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // It has exited since.
    }
  }
})

export type RunningServer = {
  // http://127.0.0.1:<port>
  url: string
  pid: number
  // Its exit code, once it has exited.
  exited: Promise<number | null>
  // What it has printed so far.
  output(): string
  // SIGTERM to its group (SIGKILL 10 s later, if it still runs); its exit code.
  stop(): Promise<number | null>
}

type StartOptions = {
  cwd: string
  env?: NodeJS.ProcessEnv
  // The address that answers (below 500) once the server is up; its root by default.
  ready?: (url: string) => string
  deadlineMs?: number
  // Only `env` (and PORT and HOST), as a container has, rather than this process's environment with it.
  cleanEnv?: boolean
  // Another user to run it as, say (uid, gid).
  spawnOptions?: SpawnOptions
}

// `command args`, with PORT and HOST in its environment (whatever `env` says) and $PORT in its arguments
// set to a free port of 127.0.0.1, once `ready` answers; fails with what it printed if it exits or the deadline passes first.
export async function startServer(
  command: string,
  args: string[],
  {
    cwd,
    env = {},
    ready = (url) => `${url}/`,
    deadlineMs = 120_000,
    cleanEnv = false,
    spawnOptions = {},
  }: StartOptions,
): Promise<RunningServer> {
  const port = String(await freePort())
  const child = spawn(
    command,
    args.map((arg) => arg.replaceAll("$PORT", port)),
    {
      ...spawnOptions,
      cwd,
      env: { ...(cleanEnv ? {} : process.env), ...env, PORT: port, HOST: "127.0.0.1" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  )
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  running.add(child.pid!)
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      running.delete(child.pid!)
      resolve(code)
    }),
  )
  const runs = () => child.exitCode === null && child.signalCode === null
  const stop = async () => {
    if (runs()) {
      process.kill(-child.pid!, "SIGTERM")
      const timer = setTimeout(() => runs() && process.kill(-child.pid!, "SIGKILL"), 10_000)
      await exited
      clearTimeout(timer)
    }
    return exited
  }
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + deadlineMs
  for (;;) {
    if (!runs()) {
      await stop()
      throw new Error(`${command} ${args.join(" ")} exited (${child.exitCode}) before answering:\n${output}`)
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${command} ${args.join(" ")} did not answer within ${deadlineMs} ms:\n${output}`)
    }
    const answered = await fetch(ready(url)).then(
      (res) => res.status < 500,
      () => false,
    )
    if (answered) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return { url, pid: child.pid!, exited, output: () => output, stop }
}
