// @ts-check
// What memory the server may use, and what a worker of this build takes: measured once, at the end of
// `gatsby build`, in a process of its own that loads the build as a worker does (../index.js runs this
// file), and written beside the routes. From it come the default number of workers, as many as the
// memory holds, and a worker's default heap bound (env.js). A build without the measurement (an
// adapter older than it) counts 512 MiB a worker, as the server once did for every build.
const { existsSync, readFileSync, writeFileSync } = require("node:fs")
const os = require("node:os")
const path = require("node:path")
const v8 = require("node:v8")

/**
 * @typedef {{ restBytes: number }} WorkerSize restBytes: a worker's resident memory once it has loaded
 *   the build, before any request
 * @typedef {{ workers: number, why: string }} WorkerCount
 */

const WORKER_FILE = path.join(".cache", "node-server", "worker.json")
// For a build that was not measured: a worker of a small site at rest, with its caches and renders.
const UNMEASURED_BYTES = 512 * 1024 * 1024
// What a worker's renders take beside its rest and its caches: a quarter of its rest, and no less than this.
const MIN_RENDER_BYTES = 64 * 1024 * 1024

// The memory the server may use: a container's limit (cgroup), or the machine's.
function processMemory() {
  const constrained = process.constrainedMemory()
  return constrained > 0 && constrained < os.totalmem() ? constrained : os.totalmem()
}

/** @param {string} siteDir @returns {WorkerSize | undefined} */
function readWorkerSize(siteDir) {
  const file = path.join(siteDir, WORKER_FILE)
  if (!existsSync(file)) return undefined
  try {
    const { restBytes } = JSON.parse(readFileSync(file, "utf8"))
    return Number.isFinite(restBytes) && restBytes > 0 ? { restBytes } : undefined
  } catch {
    return undefined
  }
}

/**
 * How many workers by default: one per core, as many as the memory holds, each counted at what a
 * worker of this build takes at rest, its caches' bounds, and room for its renders; and why, in words.
 * @param {{ cores: number, memory: number, size: WorkerSize | undefined, cachesBytes: number }} machine
 * @returns {WorkerCount}
 */
function defaultWorkerCount({ cores, memory, size, cachesBytes }) {
  const mb = (/** @type {number} */ bytes) => `${Math.round(bytes / 2 ** 20)} MiB`
  const each = size
    ? size.restBytes + cachesBytes + Math.max(size.restBytes / 4, MIN_RENDER_BYTES)
    : UNMEASURED_BYTES
  const fit = Math.floor(memory / each)
  const workers = Math.max(1, Math.min(cores, fit))
  const measured = size
    ? `a worker of this build takes ${mb(size.restBytes)} at rest, and up to ${mb(cachesBytes)} of caches`
    : `a worker counted at ${mb(UNMEASURED_BYTES)} (this build was not measured)`
  return {
    workers,
    why: `one per core (${cores}), as many as ${mb(memory)} hold: ${measured}; ${mb(each)} each fit ${fit}`,
  }
}

// 90% of a worker's heap: its share of the memory less what its caches may hold (at least a quarter
// of the share), within V8's limit, which V8 sizes from the whole machine.
/** @param {number} workers @param {number} cachesBytes */
function defaultHeapBound(workers, cachesBytes) {
  const share = processMemory() / workers
  const heap = Math.max(share - cachesBytes, share / 4)
  return Math.floor(0.9 * Math.min(v8.getHeapStatistics().heap_size_limit, heap))
}

/**
 * Measures a worker of the build in siteDir at rest, in a process of its own, and writes it beside
 * the routes. Run at the end of `gatsby build` (../index.js).
 * @param {string} siteDir @returns {WorkerSize | Error} the error where the build could not be loaded
 */
function measureWorker(siteDir) {
  const { spawnSync } = require("node:child_process")
  const run = spawnSync(process.execPath, [__filename, siteDir], {
    cwd: siteDir,
    encoding: "utf8",
    env: { ...process.env, NODE_ENV: "production" },
  })
  const last = run.stdout.trim().split("\n").pop() ?? ""
  const size = run.status === 0 ? /** @type {WorkerSize} */ (JSON.parse(last)) : undefined
  if (!size) return new Error(run.stderr.trim().split("\n")[0] || `exit code ${run.status}`)
  writeFileSync(path.join(siteDir, WORKER_FILE), JSON.stringify(size))
  return size
}

// `node memory.js <site>`: the server of the build loaded, as a worker loads it, with what Gatsby
// compiled (the engine, which a worker loads at its first page), then its memory.
if (require.main === module) {
  const { createServer } = require("./server")
  const root = path.resolve(process.argv[2] ?? ".")
  createServer({ root, cacheBytes: 1, log: () => {} })
    .then(async (app) => {
      await app.ready()
      const { functions } = JSON.parse(
        readFileSync(path.join(root, ".cache/node-server/routes.json"), "utf8"),
      )
      for (const { pathToEntryPoint } of functions) require(path.join(root, pathToEntryPoint))
      // What stays: the garbage of loading is collected before a worker serves for long.
      await new Promise((resolve) => setTimeout(resolve, 200))
      process.stdout.write(`${JSON.stringify({ restBytes: process.memoryUsage().rss })}\n`)
      await app.close()
      process.exit(0)
    })
    .catch((/** @type {unknown} */ error) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(1)
    })
}

module.exports = {
  WORKER_FILE,
  processMemory,
  readWorkerSize,
  defaultWorkerCount,
  defaultHeapBound,
  measureWorker,
}
