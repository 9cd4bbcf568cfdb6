import { Agent, createServer, get } from "node:http"
import type { AddressInfo } from "node:net"
import { createElement } from "react"
import { renderToString } from "react-dom/server"

// The floor for the bench: what the guide's page costs with no framework at all. node:http answers
// /ssr/ with the guide's markup, rendered by React's renderToString, around a dog asked of the upstream
// (DOG_API_URL) with node:http on kept-alive connections. No Gatsby, no fastify, no Head, no
// hydration scripts: no server of a real site gets under this. It prints its URL, and
// ends when its standard input does (tools/lab/upstream-process.ts).

const agent = new Agent({ keepAlive: true })
const api = `${process.env.DOG_API_URL}/breeds/image/random`

function randomDog(): Promise<string> {
  return new Promise((resolve, reject) => {
    get(api, { agent }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (body += chunk))
      res.on("end", () => resolve((JSON.parse(body) as { message: string }).message))
    }).on("error", reject)
  })
}

const server = createServer((_req, res) => {
  randomDog().then(
    (message) => {
      const page = createElement(
        "main",
        null,
        createElement("h1", null, "SSR Page with Dogs"),
        createElement("img", { alt: "Happy dog", src: message }),
      )
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
      res.end(`<!DOCTYPE html><html><head></head><body>${renderToString(page)}</body></html>`)
    },
    () => {
      res.writeHead(500).end()
    },
  )
})
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.stdin.on("end", () => process.exit()).resume()
