// Fails fast while an upstream is down. After `failuresToOpen` failures in a row the circuit opens, and
// every call fails at once for `coolDownMs`. Then it is half-open: the next call probes the upstream
// while the others keep failing fast; the probe's success closes the circuit (and says so, onRecover),
// its failure opens it again. close() closes it from outside: another process found the upstream back.

export type CircuitState = "closed" | "open" | "half-open"

export class CircuitOpenError extends Error {
  constructor(readonly retryInMs: number) {
    super(`not asked: it failed too often, and gets its next try in ${retryInMs} ms`)
    this.name = "CircuitOpenError"
  }
}

type Options = {
  failuresToOpen: number
  coolDownMs: number
  // An error for which the upstream is not to blame (a 404 for an unknown breed) does not count.
  isFailure(error: unknown): boolean
  // Told when a probe's success closes the circuit.
  onRecover?: () => void
  now?: () => number
}

export class CircuitBreaker {
  // TypeScript's `private`, not `#`: Gatsby's Babel has no class private methods.
  private failures = 0
  private openedAt: number | undefined
  private probing = false
  private readonly options: Required<Options>

  constructor(options: Options) {
    this.options = { now: () => Date.now(), onRecover: () => {}, ...options }
  }

  get state(): CircuitState {
    if (this.openedAt === undefined) return "closed"
    return this.coolingDown() ? "open" : "half-open"
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const probe = this.openedAt !== undefined
    if (probe) {
      if (this.probing || this.coolingDown()) {
        const left = this.openedAt! + this.options.coolDownMs - this.options.now()
        throw new CircuitOpenError(Math.max(left, 0))
      }
      this.probing = true
    }
    try {
      const result = await call()
      this.close()
      if (probe) this.options.onRecover()
      return result
    } catch (error) {
      if (!this.options.isFailure(error)) this.close()
      else if (probe || ++this.failures >= this.options.failuresToOpen) this.openedAt = this.options.now()
      throw error
    } finally {
      if (probe) this.probing = false
    }
  }

  coolingDown(): boolean {
    return this.options.now() - this.openedAt! < this.options.coolDownMs
  }

  close(): void {
    this.failures = 0
    this.openedAt = undefined
  }
}
