import { createServer } from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import path from "node:path"

// The ceiling of what a server around Gatsby's SSR engine can cut: the site's build (SITE_DIR), its
// engine called by node:http with nothing else, as the Node server calls it (the path, the URL, the
// headers; status, setHeader, send and json). No routes, files, limits, compression, ETag, security
// headers, logs or shutdown: it serves /ssr/ and nothing a real server must do. It prints its URL, and
// ends when its standard input does (lab/upstream-process.ts).

type EngineResponse = {
  status(code: number): EngineResponse
  setHeader(name: string, value: string | string[]): EngineResponse
  send(body: string): void
  json(body: unknown): void
}
type Engine = (
  req: { url: string; rawUrl: string; method: string; headers: object; query: object },
  res: EngineResponse,
) => Promise<void>

const lambda = path.join(process.env.SITE_DIR!, ".cache/page-ssr/lambda.js")
const engine = (createRequire(import.meta.url)(lambda) as { default: Engine }).default

const server = createServer((req, res) => {
  const url = req.url ?? "/"
  const answer: EngineResponse = {
    status: (code) => ((res.statusCode = code), answer),
    setHeader: (name, value) => (res.setHeader(name, value), answer),
    send: (body) => {
      if (!res.hasHeader("content-type")) res.setHeader("content-type", "text/html; charset=utf-8")
      res.end(body)
    },
    json: (body) => {
      res.setHeader("content-type", "application/json; charset=utf-8")
      res.end(JSON.stringify(body))
    },
  }
  const query = url.indexOf("?")
  const request = {
    url: query === -1 ? url : url.slice(0, query),
    rawUrl: `http://${req.headers.host}${url}`,
    method: req.method ?? "GET",
    headers: req.headers,
    query: {},
  }
  engine(request, answer).catch(() => res.writeHead(500).end())
})
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.stdin.on("end", () => process.exit()).resume()
