import "@testing-library/jest-dom"
import { server } from "./mocks/node"
import { resetFailureLog } from "../src/upstream/failure-log"
import { resetUpstreams } from "../src/upstream/client"

// Intercept Node's HTTP requests (node:http, which src/upstream/client.ts uses), and fail any request no handler
// answers: no test reaches the network.
beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
// Drop the handlers a test added with server.use(), so that tests stay independent.
afterEach(() => server.resetHandlers())
// Stop intercepting when the file is done.
afterAll(() => server.close())
// Every API client's circuit breaker closed and the failure log empty before each test, as in a fresh
// process: they remember failures for as long as the process lives, and a test must not inherit them.
beforeEach(() => {
  resetUpstreams()
  resetFailureLog()
})
