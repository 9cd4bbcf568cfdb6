/**
 * @jest-environment jest-fixed-jsdom
 */
import { render, screen } from "@testing-library/react"
import { ApiFailureMessage } from "../src/components/api-failure-message"

// NODE_ENV is "test" here; Gatsby sets "development" under gatsby develop and "production" in a build.
const nodeEnv = process.env.NODE_ENV
afterEach(() => {
  process.env.NODE_ENV = nodeEnv
})

test("under gatsby develop, says that a production server answers 500 where develop answers 200", () => {
  process.env.NODE_ENV = "development"

  render(<ApiFailureMessage>No dog right now.</ApiFailureMessage>)

  expect(screen.getByText(/a production server answers 500/)).toBeInTheDocument()
})

test("in production, says only what went wrong", () => {
  process.env.NODE_ENV = "production"

  const { container } = render(<ApiFailureMessage>No dog right now.</ApiFailureMessage>)

  expect(container.textContent).toBe("No dog right now.")
})
