import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

export default function handler(req: GatsbyFunctionRequest, res: GatsbyFunctionResponse): void {
  res.send(`Hello World from ${req.params.slug}`)
}
