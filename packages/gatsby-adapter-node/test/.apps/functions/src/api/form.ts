import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

// As functions-basic-form's, which reads the body it was sent; this one also says what it got.
export default function form(req: GatsbyFunctionRequest, res: GatsbyFunctionResponse) {
  const { name } = req.body
  res.json({ method: req.method, name: name ?? null, body: req.body })
}
