// @ts-check
// `npm start`: the built site on PORT and HOST, until SIGTERM or SIGINT.
const path = require("node:path")
const closeWithGrace = require("close-with-grace")
const { createServer } = require("./server")

// A container or platform sets PORT; 9000 is gatsby serve's. Every interface by default, as a
// container needs; HOST=127.0.0.1 keeps it to this machine.
const port = Number(process.env.PORT || 9000)
const host = process.env.HOST || "0.0.0.0"
// Off by default, as a load balancer's own access log usually is.
const accessLog = /^(1|true|on|yes)$/i.test(process.env.ACCESS_LOG ?? "")
// How long an idle keep-alive connection stays open. A load balancer that keeps idle connections to this
// server (60 s for AWS's ALB) needs it longer than its own, or it may send a request on a connection as
// this server closes it, and answer 502.
const keepAliveMs = Number(process.env.KEEP_ALIVE_TIMEOUT_MS || 5000)
// After SIGTERM, how long the requests in flight may take before the process exits anyway.
const SHUTDOWN_DEADLINE_MS = 10_000

async function main() {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number from 0 to 65535, not "${process.env.PORT}"`)
  }
  // Node's timers take at most 2^31 - 1 ms; past that a timeout becomes 1 ms.
  if (!Number.isInteger(keepAliveMs) || keepAliveMs < 1 || keepAliveMs > 2 ** 31 - 1) {
    throw new Error(
      `KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds from 1 to ${2 ** 31 - 1}, not "${process.env.KEEP_ALIVE_TIMEOUT_MS}"`,
    )
  }
  // The site's folder, wherever the host starts it from.
  const app = await createServer({
    root: path.join(__dirname, ".."),
    accessLog,
    timeouts: { idleMs: keepAliveMs },
  })
  closeWithGrace({ delay: SHUTDOWN_DEADLINE_MS }, async ({ signal, err }) => {
    if (err) console.error(err)
    else console.log(`${signal}: no new connections; finishing the requests in flight`)
    await app.close()
  })
  await app.listen({ port, host })
  const { port: actual } = /** @type {import("node:net").AddressInfo} */ (app.server.address())
  const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host
  console.log(`Serving the built site on http://${shown}:${actual}/ (HOST=${host}, PORT=${actual})`)
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
