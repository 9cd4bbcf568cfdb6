// @ts-check
// What the server writes: fastify's own logger, pino, in JSON lines, each request's with its request
// id; with the access log on, one line per request, in that JSON (the shape fastify's request log has)
// or, with LOG_FORMAT=combined, in Combined Log Format as nginx and Apache write it (morgan, which
// writes it for Express). Files answered before the framework (server.js's fast lane) get the same
// lines.
// (Node gives cluster itself as the module, which its types call the module's default.)
const cluster = /** @type {import("node:cluster").Cluster} */ (
  /** @type {unknown} */ (require("node:cluster"))
)
const os = require("node:os")
const proxyAddr = require("@fastify/proxy-addr")
const pino = require("pino").default
const { boundedFailureLog } = require("./failure-log")

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {"json" | "combined"} LogFormat
 * @typedef {(req: IncomingMessage, res: ServerResponse, id: string, ip: string) => void} AccessLog
 */

// Combined Log Format, plus the time taken.
const COMBINED = `:remote-addr - :remote-user [:date[clf]] ":method :url HTTP/:http-version" :status :res[content-length] ":referrer" ":user-agent" :response-time[1]ms`

/** @param {(line: string) => void} write one line, without its newline */
function createLogger(write) {
  // A worker's lines name it (workers.js), beside pino's pid and hostname.
  const base = {
    pid: process.pid,
    hostname: os.hostname(),
    ...(cluster.worker && { worker: cluster.worker.id }),
  }
  return pino({ level: "info", base }, { write: (/** @type {string} */ line) => write(line.trimEnd()) })
}

// Request ids, as fastify makes them, for the requests it sees and for those it does not.
let requests = 0
function nextRequestId() {
  requests = (requests + 1) % Number.MAX_SAFE_INTEGER
  return `req-${requests.toString(36)}`
}

/**
 * The access log: called before a request's answer ends, it writes its line once the answer is sent.
 * @param {LogFormat} format @param {pino.Logger} logger @param {(line: string) => void} write
 * @returns {AccessLog}
 */
function accessLog(format, logger, write) {
  if (format === "combined") {
    /** @type {typeof import("morgan")} */
    const morgan = require("morgan")
    const combined = morgan(COMBINED, {
      stream: { write: (/** @type {string} */ line) => write(line.trimEnd()) },
    })
    return (req, res, _id, ip) => {
      // morgan's :remote-addr is req.ip, where Express (and here, TRUST_PROXY) puts the client's.
      Object.assign(req, { ip })
      combined(req, res, () => {})
    }
  }
  return (req, res, reqId, ip) => {
    const started = process.hrtime.bigint()
    res.once("finish", () =>
      logger.info(
        {
          reqId,
          req: { method: req.method, url: req.url, host: req.headers.host, remoteAddress: ip },
          res: { statusCode: res.statusCode },
          responseTime: Number(process.hrtime.bigint() - started) / 1e6,
        },
        "request completed",
      ),
    )
  }
}

/**
 * The server's logs: pino's logger, the one bounded error log with it (failure-log.js), the access log
 * if asked for, and each request's client address, past the proxies trusted (@fastify/proxy-addr, as
 * fastify reads it for the requests it sees), for the lines of the requests it does not.
 * @param {{ write: (line: string) => void, accessLog: boolean, format: LogFormat,
 *   trustProxy: false | string[] | import("./env").TrustHops }} options
 */
function serverLogs({ write, accessLog: accessLogOn, format, trustProxy }) {
  const logger = createLogger(write)
  const trusted = Array.isArray(trustProxy) ? proxyAddr.compile(trustProxy) : trustProxy
  return {
    logger,
    failureLog: boundedFailureLog(logger),
    access: accessLogOn ? accessLog(format, logger, write) : undefined,
    /** @param {IncomingMessage} req */
    clientAddress: (req) => (trusted ? proxyAddr(req, trusted) : (req.socket.remoteAddress ?? "")),
  }
}

module.exports = { createLogger, accessLog, nextRequestId, serverLogs }
