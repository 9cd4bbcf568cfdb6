import { readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import path from "node:path"

// The floor for the bench's file rows: node:http answering from a Map of public/ (SITE_DIR's), read at
// start, with no framework, no compression, no validators: what Node itself can do for a file. It
// prints its URL, and ends when its standard input does (upstream-process.ts).

const publicDir = path.join(process.env.SITE_DIR!, "public")
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "application/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
}
const files = new Map<string, { body: Buffer; type: string }>()
for (const entry of readdirSync(publicDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue
  const file = path.join(entry.parentPath, entry.name)
  const url = `/${path.relative(publicDir, file)}`.replace(/index\.html$/, "")
  files.set(url, { body: readFileSync(file), type: TYPES[path.extname(file)] ?? "application/octet-stream" })
}

const server = createServer((req, res) => {
  const file = files.get((req.url ?? "/").split("?")[0])
  if (!file) return void res.writeHead(404).end()
  res.writeHead(200, { "content-type": file.type, "content-length": file.body.length })
  res.end(req.method === "HEAD" ? undefined : file.body)
})
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.stdin.on("end", () => process.exit()).resume()
