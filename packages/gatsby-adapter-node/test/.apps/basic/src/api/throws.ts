import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

// A function that fails after its body is read, as a bug in a fork's function would.
export default async function handler(
  _req: GatsbyFunctionRequest,
  _res: GatsbyFunctionResponse,
): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 10))
  throw new Error("the function failed on purpose")
}
