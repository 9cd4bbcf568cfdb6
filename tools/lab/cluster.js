// `node cluster.js <server.js>`: that server in one worker per core (or WORKERS), sharing its port
// through Node's cluster module, for the bench to measure whether a fork should add it.
import cluster from "node:cluster"
import os from "node:os"

const workers = Number(process.env.WORKERS || os.availableParallelism())
cluster.setupPrimary({ exec: process.argv[2] })
for (let i = 0; i < workers; i++) cluster.fork()
// The workers stop themselves on SIGTERM (they share this process group); then so does this one.
process.on("SIGTERM", () => {})
cluster.on("exit", () => {
  if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0)
})
