// While the dog API fails, every request would log the same line, tens of thousands a minute. So each
// reason gets at most one line a second, and that line says how many like it were left out before it.

const INTERVAL_MS = 1000

const lastLogged = new Map<string, { at: number; leftOut: number }>()

// `reason` is what the lines have in common ("HTTP 503", "timeout"); `line` is the one to print.
export function logFailure(reason: string, line: string, now = Date.now()): void {
  const last = lastLogged.get(reason)
  if (last && now - last.at < INTERVAL_MS) {
    last.leftOut += 1
    return
  }
  lastLogged.set(reason, { at: now, leftOut: 0 })
  // A warning, since the page copes; gatsby develop would print console.error as "ERROR UNKNOWN".
  console.warn(last?.leftOut ? `${line} (${last.leftOut} more like it left out)` : line)
}

// For tests: nothing logged yet, as in a fresh process (jest.setup.ts does it before each test).
export function resetFailureLog(): void {
  lastLogged.clear()
}
