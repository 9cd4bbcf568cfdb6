import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

// A function whose callback throws after it returned, outside any promise of its own: an uncaught
// exception, as a bug in a fork's function could be.
export default function handler(_req: GatsbyFunctionRequest, _res: GatsbyFunctionResponse): void {
  setTimeout(() => {
    throw new Error("thrown in a timer, on purpose")
  }, 10)
}
