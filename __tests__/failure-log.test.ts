let logFailure: typeof import("../src/upstream/failure-log").logFailure
let warn: jest.SpyInstance

beforeEach(async () => {
  // Each test starts with nothing logged yet.
  jest.resetModules()
  ;({ logFailure } = await import("../src/upstream/failure-log"))
  warn = jest.spyOn(console, "warn").mockImplementation(() => {})
})

afterEach(() => warn.mockRestore())

test("logs the first failure of a reason as it is", () => {
  logFailure("HTTP 503", "no dog: HTTP 503", 0)

  expect(warn).toHaveBeenCalledWith("no dog: HTTP 503")
})

test("logs at most one line a second for each reason", () => {
  for (let ms = 0; ms < 3000; ms += 10) logFailure("HTTP 503", "no dog: HTTP 503", ms)

  expect(warn).toHaveBeenCalledTimes(3)
})

test("says how many lines like it were left out", () => {
  for (let ms = 0; ms < 1000; ms += 10) logFailure("timeout", "no dog: timeout", ms)

  logFailure("timeout", "no dog: timeout", 1000)

  expect(warn).toHaveBeenLastCalledWith("no dog: timeout (99 more like it left out)")
})

test("logs each reason on its own", () => {
  logFailure("HTTP 503", "no dog: HTTP 503", 0)
  logFailure("timeout", "no dog: timeout", 1)

  expect(warn).toHaveBeenCalledTimes(2)
})
