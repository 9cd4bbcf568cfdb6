// @ts-check
// Prometheus metrics (prom-client), off unless METRICS_PORT names a port of their own, so that the
// site's visitors never see them: requests by kind of answer and status, their latency, the shared
// cache's look-ups, the requests shed, and the upstream APIs' failures that the site's pages report
// on the diagnostics channel UPSTREAM_FAILURES. Node's own (event loop, heap, GC) with them.
// (Node gives cluster itself as the module, which its types call the module's default.)
const cluster = /** @type {import("node:cluster").Cluster} */ (
  /** @type {unknown} */ (require("node:cluster"))
)
const diagnosticsChannel = require("node:diagnostics_channel")
const { createServer: createHttpServer } = require("node:http")
const client = require("prom-client")
const { UPSTREAM_FAILURES } = require("./failure-log")

/**
 * @typedef {"file" | "cached" | "page" | "function" | "redirect" | "not-found" | "health" | "shed" | "image" | "error"} AnswerKind
 *   file: a file of public/; cached: a page from the shared cache; page: one the engine rendered;
 *   shed: a quick 503; error: a client's mistake or a failure
 * @typedef {ReturnType<typeof createMetrics>} Metrics
 */

function createMetrics() {
  const registry = new client.Registry()
  client.collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const requests = new client.Counter({
    name: "http_requests_total",
    help: "Requests answered, by kind of answer and status",
    labelNames: ["kind", "status"],
    registers,
  })
  const duration = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "Time from a request's start to its answer's end, by kind of answer",
    labelNames: ["kind"],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  })
  const cacheLookups = new client.Counter({
    name: "response_cache_lookups_total",
    help: "Look-ups in the shared cache of rendered pages: hit, stale (sent while one render renews it) or miss, and the tier that had it (memory, or the shared store)",
    labelNames: ["result", "tier"],
    registers,
  })
  const sharedFailures = new client.Counter({
    name: "shared_cache_failures_total",
    help: "Calls to the shared store (REDIS_URL) that failed or took too long, and connections lost, by reason",
    labelNames: ["reason"],
    registers,
  })
  const shed = new client.Counter({
    name: "http_requests_shed_total",
    help: "Requests answered 503 at once: too many in flight, event-loop delay or heap past their bounds",
    labelNames: ["reason"],
    registers,
  })
  const upstreamFailures = new client.Counter({
    name: "upstream_failures_total",
    help: "Failures of the APIs that pages ask, as the pages report them, by API and reason",
    labelNames: ["api", "reason"],
    registers,
  })
  const images = new client.Counter({
    name: "image_answers_total",
    help: "Gatsby Image CDN and File CDN addresses answered, by where the answer came from (memory, disk, store, made: fetched and made here) or why not (refused, failed, busy)",
    labelNames: ["from"],
    registers,
  })
  const imageWork = new client.Counter({
    name: "image_work_total",
    help: "Sources fetched and images made for the Image CDN and File CDN, by what it was (fetch, transform) and its result",
    labelNames: ["work", "result"],
    registers,
  })
  /** @param {unknown} message */
  const onUpstreamFailure = (message) => {
    const { api, reason } = /** @type {{ api?: unknown, reason?: unknown }} */ (message ?? {})
    upstreamFailures.inc({ api: String(api ?? "unknown"), reason: String(reason ?? "unknown") })
  }
  diagnosticsChannel.subscribe(UPSTREAM_FAILURES, onUpstreamFailure)
  if (cluster.isWorker) {
    // The primary sums every worker's (workers.js): this registry is the one it asks for, and the
    // aggregator's construction is what makes a worker answer it.
    client.AggregatorRegistry.setRegistries([registry])
    new client.AggregatorRegistry()
  }

  return {
    registry,
    /** @param {AnswerKind} kind @param {number} status @param {number} seconds */
    answered(kind, status, seconds) {
      requests.inc({ kind, status: String(status) })
      duration.observe({ kind }, seconds)
    },
    /** @param {"hit" | "stale" | "miss"} result @param {"memory" | "shared"} [tier] */
    cacheLookup: (result, tier = "memory") => cacheLookups.inc({ result, tier }),
    /** @param {string} reason */
    sharedCacheFailure: (reason) => sharedFailures.inc({ reason }),
    /** @param {string} reason */
    shed: (reason) => shed.inc({ reason }),
    /** @param {string} from */
    image: (from) => images.inc({ from }),
    /** @param {"fetch" | "transform"} work @param {string} result */
    imageWork: (work, result) => imageWork.inc({ work, result }),
    stop: () => diagnosticsChannel.unsubscribe(UPSTREAM_FAILURES, onUpstreamFailure),
  }
}

/**
 * GET /metrics on a port of its own, in Prometheus's text format; anything else is 404.
 * @param {() => Promise<string>} collect @param {string} contentType @returns {import("node:http").Server}
 */
function metricsServer(collect, contentType) {
  return createHttpServer((req, res) => {
    if (req.url !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not Found\n")
      return
    }
    collect().then(
      (text) => res.writeHead(200, { "content-type": contentType }).end(text),
      () => res.writeHead(500).end(),
    )
  })
}

module.exports = { createMetrics, metricsServer }
