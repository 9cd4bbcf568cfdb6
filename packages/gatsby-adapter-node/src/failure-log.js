// @ts-check
// Errors that reach the server (not the pages' own, which they log themselves), bounded: each kind with
// its stack the first time, then at most one line a second, saying how many were left out. A message
// may carry a request's details, so it remembers the last 100 kinds, not every one.

/**
 * @param {(line: string) => void} log
 * @returns {(thrown: unknown, request: { method: string, url: string }, now?: number) => void}
 */
function boundedFailureLog(log, intervalMs = 1000, kinds = 100) {
  /** @type {Map<string, { last: number, left: number }>} */
  const seen = new Map()
  return (thrown, request, now = Date.now()) => {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown))
    const kind = `${error.name}: ${error.message}`
    const entry = seen.get(kind)
    if (!entry) {
      if (seen.size >= kinds) seen.delete(/** @type {string} */ (seen.keys().next().value))
      seen.set(kind, { last: now, left: 0 })
      log(`error [${request.method} ${request.url}] ${error.stack ?? kind}`)
    } else if (now - entry.last >= intervalMs) {
      const left = entry.left ? ` (${entry.left} more like it left out)` : ""
      log(`error [${request.method} ${request.url}] ${kind}${left}`)
      seen.set(kind, { last: now, left: 0 })
    } else {
      entry.left++
    }
  }
}

module.exports = { boundedFailureLog }
