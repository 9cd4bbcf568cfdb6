import "@testing-library/jest-dom"
import { server } from "./mocks/node"

// Intercept fetch, and fail any request no handler answers: no test reaches the network.
beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
// Drop the handlers a test added with server.use(), so that tests stay independent.
afterEach(() => server.resetHandlers())
// Stop intercepting when the file is done.
afterAll(() => server.close())
