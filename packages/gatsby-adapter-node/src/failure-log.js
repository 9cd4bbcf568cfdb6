// @ts-check
// The one error log, bounded: errors that reach the server, and the failures that the site's pages
// report on the diagnostics channel UPSTREAM_FAILURES (an API they asked failed; a page that reports
// them logs them itself where nothing listens, under gatsby serve or develop). Each kind of error with
// its stack the first time (pino's err), then at most one line a second, saying how many were left
// out (leftOut). A message may carry a request's details, so it remembers the last 100 kinds, not
// every one.
const diagnosticsChannel = require("node:diagnostics_channel")

// A site's page publishes { api, reason, line } here when an API it asked failed ("dog API",
// "timeout", and the line it would log).
const UPSTREAM_FAILURES = "gatsby-adapter-node:upstream-failure"

/**
 * @typedef {{ error(entry: object, message: string): void }} ErrorLogger
 * @typedef {(thrown: unknown, request: { id?: string, method: string, url: string }, now?: number) => void} ReportFailure
 */

/**
 * @param {ErrorLogger} logger
 * @returns {{ reportFailure: ReportFailure, reportProblem: (kind: string, details: object) => void, stop(): void }}
 *   reportFailure: for an error that reached the server; reportProblem: for one of no request's (a
 *   shared cache gone away), by a kind of its own
 */
function boundedFailureLog(logger, intervalMs = 1000, kinds = 100) {
  /** @type {Map<string, { last: number, left: number }>} */
  const seen = new Map()

  /**
   * @param {string} kind what lines of one kind have in common, and their message
   * @param {object} details @param {object} first what only the first line of a kind carries (a stack)
   */
  const log = (kind, details, first, now = Date.now()) => {
    const entry = seen.get(kind)
    if (!entry) {
      if (seen.size >= kinds) seen.delete(/** @type {string} */ (seen.keys().next().value))
      seen.set(kind, { last: now, left: 0 })
      logger.error({ ...details, ...first }, kind)
    } else if (now - entry.last >= intervalMs) {
      logger.error({ ...details, leftOut: entry.left }, kind)
      seen.set(kind, { last: now, left: 0 })
    } else {
      entry.left++
    }
  }

  /** @param {unknown} message */
  const reported = (message) => {
    const { api, reason, line } = /** @type {{ api?: unknown, reason?: unknown, line?: unknown }} */ (
      message ?? {}
    )
    log(`${api}: ${reason}`, { api, reason, detail: line }, {})
  }
  diagnosticsChannel.subscribe(UPSTREAM_FAILURES, reported)

  return {
    reportFailure: (thrown, request, now) => {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown))
      const details = { reqId: request.id, req: { method: request.method, url: request.url } }
      log(`${error.name}: ${error.message}`, details, { err: error }, now)
    },
    reportProblem: (kind, details) => log(kind, details, {}),
    stop: () => diagnosticsChannel.unsubscribe(UPSTREAM_FAILURES, reported),
  }
}

module.exports = { boundedFailureLog, UPSTREAM_FAILURES }
