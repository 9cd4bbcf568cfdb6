import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { connect } from "node:net"
import { freePort } from "./processes"

// A Valkey or Redis server of the tests' own on a free port of 127.0.0.1, in memory only: the shared
// cache of gatsby-adapter-node's fleet tests and the lab's bench. Debian's redis-server (apt install
// redis-server), or valkey-server where that is what the machine has; .ci/run and the workflow install it.

export type RunningRedis = {
  // redis://127.0.0.1:<port>
  url: string
  // Stops it (its data goes with it); start() brings one up again on the same port.
  stop(): Promise<void>
  start(): Promise<void>
  // A store that takes connections and commands and answers none (SIGSTOP), until thaw().
  freeze(): void
  thaw(): void
}

function serverCommand(): string {
  for (const command of ["valkey-server", "redis-server"]) {
    if (spawnSync(command, ["--version"]).status === 0) return command
  }
  throw new Error(
    "Neither redis-server nor valkey-server is installed: the shared cache's tests need one (Debian and Ubuntu: apt-get install redis-server)",
  )
}

// Whether it answers PING.
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => socket.write("PING\r\n"))
    socket.setTimeout(500, () => socket.destroy())
    socket.once("data", (data) => {
      socket.destroy()
      resolve(data.toString().startsWith("+PONG"))
    })
    socket.once("error", () => resolve(false))
    socket.once("close", () => resolve(false))
  })
}

export async function startRedis(): Promise<RunningRedis> {
  const command = serverCommand()
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async () => {
    const started = spawn(
      command,
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    )
    child = started
    for (const deadline = Date.now() + 10_000; !(await pong(port));) {
      if (started.exitCode !== null || Date.now() > deadline)
        throw new Error(`${command} did not answer on port ${port}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (!running || running.exitCode !== null) return
    running.kill("SIGCONT")
    const exited = new Promise((resolve) => running.once("exit", resolve))
    running.kill("SIGKILL")
    await exited
  }
  // Not left running when the tests' process ends in any way.
  process.once("exit", () => child?.kill("SIGKILL"))
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
  }
}
