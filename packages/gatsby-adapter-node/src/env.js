// @ts-check
// Every setting of `npm start`, read from the environment in one place, each with a clear message for a
// value it cannot use.
const { isIP } = require("node:net")
const os = require("node:os")
const path = require("node:path")
const { defaultHeapBound, defaultWorkerCount, processMemory, readWorkerSize } = require("./memory")

// Node's timers take at most 2^31 - 1 ms; past that a timeout becomes 1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * @typedef {{ port: number, host: string, accessLog: boolean, logFormat: import("./logs").LogFormat, keepAliveMs: number, shutdownDeadlineMs: number,
 *   bodyLimit: number, countryHeader: string | undefined, trustProxy: false | string[] | TrustHops,
 *   maxEventLoopDelayMs: number, maxHeapUsedBytes: number, cacheBytes: number, maxInFlight: number,
 *   fileMemoryBytes: number, metricsPort: number | undefined, backlog: number, workers: number, workersWhy: string,
 *   redisUrl: string | undefined, redisTimeoutMs: number, images: import("./images").ImageSettings,
 *   siteDir: string | undefined }} Settings
 */

/** @typedef {(address: string, hop: number) => boolean} TrustHops */

/** @param {NodeJS.ProcessEnv} env @returns {Settings} */
function readSettings(env) {
  // A container or platform sets PORT; 9000 is gatsby serve's.
  const port = Number(env.PORT || 9000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number from 0 to 65535, not "${env.PORT}"`)
  }
  // The header in which a CDN in front names the visitor's country (CF-IPCountry on Cloudflare), for
  // redirects with a country condition. Unset, no country is known, and those redirects never fire.
  const countryHeader = env.COUNTRY_HEADER || undefined
  if (countryHeader !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(countryHeader)) {
    throw new Error(`COUNTRY_HEADER must be a header name, such as CF-IPCountry, not "${countryHeader}"`)
  }
  // Prometheus's /metrics, on a port of its own (on HOST), so that visitors never see it; unset: off.
  const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : undefined
  if (
    metricsPort !== undefined &&
    (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
  ) {
    throw new Error(`METRICS_PORT must be a port number from 0 to 65535, not "${env.METRICS_PORT}"`)
  }
  const logFormat = env.LOG_FORMAT || "json"
  if (logFormat !== "json" && logFormat !== "combined") {
    throw new Error(`LOG_FORMAT must be json or combined, not "${logFormat}"`)
  }
  // The shared cache of rendered pages (src/response-cache.js): how many bytes of answers it keeps.
  // 0 turns it off, for a site with a CDN in front that caches them already.
  const cacheBytes = wholeNumber(
    env,
    "RESPONSE_CACHE_BYTES",
    64 * 1024 * 1024,
    Number.MAX_SAFE_INTEGER,
    "bytes",
    0,
  )
  // The bodies of small files of public/ kept in memory once asked for (src/static.js). 0: none.
  const fileMemoryBytes = wholeNumber(
    env,
    "FILE_MEMORY_BYTES",
    64 * 1024 * 1024,
    Number.MAX_SAFE_INTEGER,
    "bytes",
    0,
  )
  // Worker processes on the one port (src/workers.js), as Heroku and Render name the setting: by
  // default one per core, as many as the memory holds of what a worker of this build takes (memory.js).
  const siteDir = env.SITE_DIR || undefined
  const byDefault = defaultWorkerCount({
    cores: os.availableParallelism(),
    memory: processMemory(),
    size: readWorkerSize(path.resolve(siteDir ?? process.cwd())),
    cachesBytes: cacheBytes + fileMemoryBytes,
  })
  const workers = wholeNumber(env, "WEB_CONCURRENCY", byDefault.workers, 1024, "processes")
  return {
    port,
    // Every interface by default, as a container needs; HOST=127.0.0.1 keeps it to this machine.
    host: env.HOST || "0.0.0.0",
    // Off by default, as a load balancer's own access log usually is.
    accessLog: /^(1|true|on|yes)$/i.test(env.ACCESS_LOG ?? ""),
    // The access log's lines: JSON, as pino writes every other line, or Combined Log Format.
    logFormat,
    // How long an idle keep-alive connection stays open. A load balancer that keeps idle connections to
    // this server (60 s for AWS's ALB) needs it longer than its own, or it may send a request on a
    // connection as this server closes it, and answer 502.
    keepAliveMs: wholeNumber(env, "KEEP_ALIVE_TIMEOUT_MS", 5000, MAX_TIMER_MS, "milliseconds"),
    // After SIGTERM, how long the requests in flight may take before the process exits anyway; a
    // container platform's stop grace period must be longer.
    shutdownDeadlineMs: wholeNumber(env, "SHUTDOWN_DEADLINE_MS", 10_000, MAX_TIMER_MS, "milliseconds"),
    // Request bodies, which only Gatsby Functions read: a larger one gets 413 before the function runs.
    bodyLimit: wholeNumber(env, "BODY_LIMIT", 1024 * 1024, 2 ** 31 - 1, "bytes"),
    countryHeader,
    trustProxy: proxiesToTrust(env.TRUST_PROXY),
    // Load shedding: past a mean event-loop delay (over a second) while other requests wait, or a heap
    // this full, requests get 503 with Retry-After at once. 0 turns a bound off.
    maxEventLoopDelayMs: wholeNumber(env, "MAX_EVENT_LOOP_DELAY_MS", 250, MAX_TIMER_MS, "milliseconds", 0),
    // By default 90% of what a worker's heap may take: its share of the memory (a container's limit,
    // or the machine's) less the caches, which live outside the heap, and no more than V8's own limit
    // (--max-old-space-size), which V8 sizes from the whole machine, not a worker's share.
    maxHeapUsedBytes: wholeNumber(
      env,
      "MAX_HEAP_USED_BYTES",
      defaultHeapBound(workers, cacheBytes + fileMemoryBytes),
      Number.MAX_SAFE_INTEGER,
      "bytes",
      0,
    ),
    cacheBytes,
    // Requests past the fast lane (files, fresh cached pages) answered at once: more get 503 with
    // Retry-After at once, rather than wait behind the others (on a hanging API, say). 0: no bound.
    maxInFlight: wholeNumber(env, "MAX_IN_FLIGHT", 256, 2 ** 31 - 1, "requests", 0),
    fileMemoryBytes,
    metricsPort,
    // The connections the system holds for the server until it takes them (listen's backlog), capped
    // by the system's own bound (net.core.somaxconn). Node's default, 511, overflowed under a burst of
    // new connections (npm run overload): the system then drops their SYNs, and each client waits
    // 1, 3, 7 s... to try again.
    backlog: wholeNumber(env, "LISTEN_BACKLOG", 4096, 2 ** 31 - 1, "connections"),
    workers,
    // Why that many, for the line that says where it serves.
    workersWhy: env.WEB_CONCURRENCY
      ? `WEB_CONCURRENCY=${workers}`
      : `WEB_CONCURRENCY unset: ${byDefault.why}`,
    // The Valkey or Redis that a fleet's servers share their rendered pages in (src/shared-cache.js),
    // as platforms name it; unset, each server keeps its own.
    redisUrl: redisUrl(env.REDIS_URL),
    // How long a page waits for the shared store at most: tens of milliseconds, far under a render.
    redisTimeoutMs: wholeNumber(env, "REDIS_TIMEOUT_MS", 50, MAX_TIMER_MS, "milliseconds"),
    // Gatsby's Image CDN and File CDN (src/images.js): what is kept of the images made, in memory and
    // on disk (0: none), where, and how large a source may be.
    images: {
      memoryBytes: wholeNumber(
        env,
        "IMAGE_MEMORY_BYTES",
        32 * 1024 * 1024,
        Number.MAX_SAFE_INTEGER,
        "bytes",
        0,
      ),
      diskBytes: wholeNumber(env, "IMAGE_DISK_BYTES", 512 * 1024 * 1024, Number.MAX_SAFE_INTEGER, "bytes", 0),
      dir: path.resolve(
        siteDir ?? process.cwd(),
        env.IMAGE_CACHE_DIR || path.join(".cache", "node-server", "images"),
      ),
      maxSourceBytes: wholeNumber(env, "IMAGE_MAX_SOURCE_BYTES", 25 * 1024 * 1024, 2 ** 31 - 1, "bytes"),
      // imgproxy's default is 16.8 million; a phone's camera makes 48.
      maxSourcePixels: wholeNumber(env, "IMAGE_MAX_SOURCE_PIXELS", 50_000_000, 2 ** 31 - 1, "pixels"),
      // Transforms at once, each on one of libuv's threads, which files and compression share.
      transformsAtOnce: wholeNumber(
        env,
        "IMAGE_TRANSFORMS",
        Math.max(1, Math.floor(os.availableParallelism() / 2)),
        1024,
        "transforms",
      ),
    },
    // The site's folder, when it is not the current one. A setting, not an argument: a
    // wrapper (a cluster, a process manager) may pass arguments of its own.
    siteDir,
  }
}

/**
 * @param {NodeJS.ProcessEnv} env @param {string} name @param {number} fallback @param {number} max
 * @param {string} unit @param {number} [min] 0 where 0 turns the setting off
 */
function wholeNumber(env, name, fallback, max, unit, min = 1) {
  const value = Number(env[name] === undefined || env[name] === "" ? fallback : env[name])
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number of ${unit} from ${min} to ${max}, not "${env[name]}"`)
  }
  return value
}

// Which peer's X-Forwarded-For, -Proto and -Host to believe, as fastify's trustProxy takes it: none by
// default (a client could forge them); a number of proxies in front (1 for one load balancer); or the
// proxies' addresses and ranges (10.0.0.0/8,127.0.0.1).
/** @param {string | undefined} value @returns {false | string[] | TrustHops} */
function proxiesToTrust(value) {
  if (!value) return false
  if (/^\d+$/.test(value) && Number(value) >= 1) {
    const hops = Number(value)
    // The hops nearest this server are the proxies; the one past them is the client.
    return (_address, hop) => hop < hops
  }
  const addresses = value.split(",").map((address) => address.trim())
  const valid = (/** @type {string} */ address) => {
    const [ip, bits, ...rest] = address.split("/")
    const version = isIP(ip)
    if (!version || rest.length) return false
    return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
  }
  if (!addresses.every(valid)) {
    throw new Error(
      `TRUST_PROXY must be how many proxies are in front (1) or their addresses (10.0.0.0/8,127.0.0.1), not "${value}"`,
    )
  }
  return addresses
}

/** @param {string | undefined} value */
function redisUrl(value) {
  if (!value) return undefined
  const protocol = URL.canParse(value) ? new URL(value).protocol : ""
  if (protocol !== "redis:" && protocol !== "rediss:" && protocol !== "valkey:" && protocol !== "valkeys:") {
    throw new Error(`REDIS_URL must be a redis:// or rediss:// URL (redis://host:6379), not "${value}"`)
  }
  // node-redis takes the redis schemes; Valkey speaks the same protocol.
  return value.replace(/^valkey(s?):/, "redis$1:")
}

module.exports = { readSettings }
