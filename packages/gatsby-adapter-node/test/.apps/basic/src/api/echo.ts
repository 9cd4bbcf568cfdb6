import type { GatsbyFunctionRequest, GatsbyFunctionResponse } from "gatsby"

type Upload = { fieldname: string; originalname: string; size: number }

// What the function received, as Gatsby's wrapper parsed it: a Buffer body (raw) is given by its text.
export default function handler(
  req: GatsbyFunctionRequest & { files?: Upload[] },
  res: GatsbyFunctionResponse,
): void {
  res.json({
    method: req.method,
    query: req.query,
    body: Buffer.isBuffer(req.body) ? { raw: req.body.toString() } : req.body,
    files: req.files?.map(({ fieldname, originalname, size }) => ({ fieldname, originalname, size })),
    cookies: req.cookies,
    url: req.url,
  })
}
