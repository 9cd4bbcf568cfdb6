import { createServer } from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import path from "node:path"

// The ceiling of what the Node server's glue can cut: the site's build (SITE_DIR), its engine called
// the way the Node server calls it (gatsby-adapter-node's src/render.js, renderEngine), from node:http with
// nothing else. No routes, files, limits, compression, ETag, security headers, cache, logs or
// shutdown: it serves /ssr/ and nothing a real server must do. It prints its URL, and ends when its
// standard input does (tools/lab/upstream-process.ts).

type Rendered = { status: number; headers: Record<string, string | string[]>; body: Buffer }
type RenderEngine = (engine: unknown, request: object) => Promise<Rendered>

const site = process.env.SITE_DIR!
const load = createRequire(import.meta.url)
const engine = (load(path.join(site, ".cache/page-ssr/lambda.js")) as { default: unknown }).default
const adapterDir = path.dirname(load.resolve("gatsby-adapter-node/package.json", { paths: [site] }))
const { renderEngine } = load(path.join(adapterDir, "src/render.js")) as {
  renderEngine: RenderEngine
}

const server = createServer((req, res) => {
  const url = req.url ?? "/"
  const query = url.indexOf("?")
  const request = {
    url: query === -1 ? url : url.slice(0, query),
    rawUrl: `http://${req.headers.host}${url}`,
    method: req.method ?? "GET",
    headers: req.headers,
    query: {},
  }
  renderEngine(engine, request).then(
    ({ status, headers, body }) => res.writeHead(status, headers).end(body),
    () => res.writeHead(500).end(),
  )
})
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.stdin.on("end", () => process.exit()).resume()
