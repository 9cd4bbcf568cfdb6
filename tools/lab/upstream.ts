import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

// The dog API for the benchmark, in a process of its own and as cheap as an HTTP server can be: fixed
// answers, built once, so that its own rate stays far above the site's and the bench measures the site.
// (The stand-in API in ../stand-in-api/ is for people and tests: it draws its dogs and runs msw.)
//
// It prints its URL, then takes commands on stdin, one a line: a mode (ok, http-500, hang, big) or a
// latency ("latency 50"). GET /_stats answers {"requests": n, "connections": n}.

type Mode = "ok" | "http-500" | "hang" | "big"

const slugs = ["hound-afghan", "husky", "pug", "retriever-golden"]
const dogs = Array.from({ length: 64 }, (_, n) =>
  Buffer.from(
    JSON.stringify({
      message: `https://images.dog.ceo/breeds/${slugs[n % slugs.length]}/n0${n}.jpg`,
      status: "success",
    }),
  ),
)
const breedList = Buffer.from(
  JSON.stringify({
    message: { hound: ["afghan", "basset"], husky: [], pug: [], retriever: ["golden"] },
    status: "success",
  }),
)
// 8 MB that is a valid dog answer, padded: what an API gone wrong might send.
const big = Buffer.from(
  JSON.stringify({
    message: "https://images.dog.ceo/breeds/pug/n01.jpg",
    status: "success",
    padding: "x".repeat(8 * 1024 * 1024),
  }),
)
const json = { "Content-Type": "application/json" }

let mode: Mode = "ok"
let latencyMs = 0
let requests = 0
let connections = 0

function answer(url: string, res: import("node:http").ServerResponse): void {
  if (mode === "hang") return
  if (mode === "http-500") {
    res.writeHead(500, { "Content-Type": "text/plain" }).end("Internal Server Error")
    return
  }
  if (mode === "big") {
    res.writeHead(200, json).end(big)
    return
  }
  if (url === "/api/breeds/list/all") {
    res.writeHead(200, json).end(breedList)
  } else if (url.startsWith("/api/")) {
    res.writeHead(200, json).end(dogs[requests % dogs.length])
  } else {
    res.writeHead(404).end()
  }
}

const server = createServer((req, res) => {
  const url = req.url ?? "/"
  if (url === "/_stats") {
    res.writeHead(200, json).end(JSON.stringify({ requests, connections }))
    return
  }
  requests += 1
  if (latencyMs > 0) setTimeout(() => answer(url, res), latencyMs)
  else answer(url, res)
})
server.on("connection", () => (connections += 1))
server.keepAliveTimeout = 60_000

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api`)
})

process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk: string) => {
  for (const line of chunk.split("\n").filter(Boolean)) {
    const [command, value] = line.trim().split(/\s+/)
    if (command === "latency") latencyMs = Number(value)
    else mode = command as Mode
  }
})
// The bench closes stdin when it is done: stop, dropping any hanging answer.
process.stdin.on("end", () => {
  server.closeAllConnections()
  server.close()
})
