import { spawn } from "node:child_process"
import { startStandInApi } from "./server"

// `tsx stand-in-api/run.ts [command …]`: starts the stand-in dog API and, when given a command
// (`gatsby develop`), runs it with DOG_API_URL pointing here until it exits or Ctrl-C.
// STAND_IN_PORT picks the port (default: any free one).

const command = process.argv.slice(2)
startStandInApi({ port: Number(process.env.STAND_IN_PORT ?? 0) }).then(
  (api) => {
    console.log(`Stand-in dog API: ${api.apiUrl}/breeds/image/random`)

    if (command.length === 0) {
      process.once("SIGINT", () => void api.close())
      process.once("SIGTERM", () => void api.close())
      return
    }
    const child = spawn(command[0], command.slice(1), {
      stdio: "inherit",
      env: { ...process.env, DOG_API_URL: api.apiUrl },
    })
    // Ctrl-C reaches the child too (same process group); wait for it to finish, then stop.
    process.on("SIGINT", () => {})
    process.once("SIGTERM", () => child.kill("SIGTERM"))
    child.once("exit", async (code, signal) => {
      await api.close()
      process.exitCode = code ?? (signal ? 1 : 0)
    })
  },
  (error: unknown) => {
    console.error(
      `The stand-in dog API could not start: ${error instanceof Error ? error.message : String(error)}`,
    )
    process.exit(1)
  },
)
