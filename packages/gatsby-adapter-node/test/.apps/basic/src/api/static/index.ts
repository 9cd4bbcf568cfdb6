import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

export default function handler(_req: GatsbyFunctionRequest, res: GatsbyFunctionResponse): void {
  res.send("Hello World")
}
