// @ts-check
// Errors that reach the server (not the pages' own, which they log themselves), bounded: each kind with
// its stack the first time (pino's err), then at most one line a second, saying how many were left out
// (leftOut). A message
// may carry a request's details, so it remembers the last 100 kinds, not every one.

/**
 * @param {{ error(entry: object, message: string): void }} logger
 * @returns {(thrown: unknown, request: { id?: string, method: string, url: string }, now?: number) => void}
 */
function boundedFailureLog(logger, intervalMs = 1000, kinds = 100) {
  /** @type {Map<string, { last: number, left: number }>} */
  const seen = new Map()
  return (thrown, request, now = Date.now()) => {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    const kind = `${error.name}: ${error.message}`
    const entry = seen.get(kind)
    if (!entry) {
      if (seen.size >= kinds) seen.delete(/** @type {string} */ (seen.keys().next().value))
      seen.set(kind, { last: now, left: 0 })
      logger.error({ reqId: request.id, req: { method: request.method, url: request.url }, err: error }, kind)
    } else if (now - entry.last >= intervalMs) {
      logger.error(
        { reqId: request.id, req: { method: request.method, url: request.url }, leftOut: entry.left },
        kind,
      )
      seen.set(kind, { last: now, left: 0 })
    } else {
      entry.left++
    }
  }
}

module.exports = { boundedFailureLog }
