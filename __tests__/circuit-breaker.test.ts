import { CircuitBreaker, CircuitOpenError } from "../src/upstream/circuit-breaker"

// A clock the tests move by hand.
let now = 0
const breaker = () =>
  new CircuitBreaker({
    failuresToOpen: 3,
    coolDownMs: 1000,
    isFailure: (error) => error !== "not the upstream's fault",
    now: () => now,
  })

const fails = () => Promise.reject(new Error("down"))
const answers = () => Promise.resolve("dog")

async function failTimes(circuit: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await circuit.run(fails).catch(() => {})
}

beforeEach(() => {
  now = 0
})

test("closed: passes calls and their errors through", async () => {
  const circuit = breaker()

  await expect(circuit.run(answers)).resolves.toBe("dog")
  await expect(circuit.run(fails)).rejects.toThrow("down")
  expect(circuit.state).toBe("closed")
})

test("stays closed while failures are not in a row", async () => {
  const circuit = breaker()
  await failTimes(circuit, 2)
  await circuit.run(answers)
  await failTimes(circuit, 2)

  expect(circuit.state).toBe("closed")
})

test("does not count errors that are not the upstream's fault", async () => {
  const circuit = breaker()
  for (let i = 0; i < 5; i++)
    await circuit.run(() => Promise.reject("not the upstream's fault")).catch(() => {})

  expect(circuit.state).toBe("closed")
})

test("opens after failures in a row, and then fails at once without calling", async () => {
  const circuit = breaker()
  await failTimes(circuit, 3)
  const call = jest.fn(answers)

  await expect(circuit.run(call)).rejects.toBeInstanceOf(CircuitOpenError)
  expect(call).not.toHaveBeenCalled()
  expect(circuit.state).toBe("open")
})

test("half-open after the cool-down: one call probes, the others still fail at once", async () => {
  const circuit = breaker()
  await failTimes(circuit, 3)
  now += 1000
  expect(circuit.state).toBe("half-open")
  let answer!: (value: string) => void
  const probe = circuit.run(() => new Promise<string>((resolve) => (answer = resolve)))
  const other = jest.fn(answers)

  await expect(circuit.run(other)).rejects.toBeInstanceOf(CircuitOpenError)
  expect(other).not.toHaveBeenCalled()
  answer("dog")
  await expect(probe).resolves.toBe("dog")
})

test("a probe that succeeds closes the circuit", async () => {
  const circuit = breaker()
  await failTimes(circuit, 3)
  now += 1000

  await circuit.run(answers)

  expect(circuit.state).toBe("closed")
  await expect(circuit.run(answers)).resolves.toBe("dog")
})

test("says it recovered when a probe closes the circuit, and only then", async () => {
  const recovered = jest.fn()
  const circuit = new CircuitBreaker({
    failuresToOpen: 3,
    coolDownMs: 1000,
    isFailure: () => true,
    onRecover: recovered,
    now: () => now,
  })
  await circuit.run(answers)
  await failTimes(circuit, 3)
  now += 1000

  await circuit.run(answers)
  await circuit.run(answers)

  expect(recovered).toHaveBeenCalledTimes(1)
})

test("closed from outside, it calls at once, cool-down or not", async () => {
  const circuit = breaker()
  await failTimes(circuit, 3)

  circuit.close()

  await expect(circuit.run(answers)).resolves.toBe("dog")
})

test("a probe that fails opens the circuit for another cool-down", async () => {
  const circuit = breaker()
  await failTimes(circuit, 3)
  now += 1000

  await failTimes(circuit, 1)

  expect(circuit.state).toBe("open")
  now += 999
  await expect(circuit.run(answers)).rejects.toBeInstanceOf(CircuitOpenError)
})
