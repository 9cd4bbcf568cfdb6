import type { GatsbyFunctionConfig, GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

// A function with its own body parser settings: a custom type parsed as text.
export const config: GatsbyFunctionConfig = {
  bodyParser: { text: { type: "application/x-fixture", limit: "1kb" } },
}

export default function handler(req: GatsbyFunctionRequest, res: GatsbyFunctionResponse): void {
  res.json({ body: req.body })
}
