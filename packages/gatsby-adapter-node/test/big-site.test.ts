import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import type { RoutesManifest } from "gatsby"
import { ROUTES_FILE, routesFile } from "../src/routes"

// A site of thousands of pages, as the adapter gets it from Gatsby (a routes manifest with a static
// page and its page-data for each, a fifth as many deferred pages): what a server of it holds per page,
// beside a site of a handful, measured in processes of their own after a full collection. The route
// table, the address finder, the fast lane's index of files and the routes themselves are all that grow
// with the pages before any request (no file is looked up at start). tools/lab's `npm run bench --
// --pages N` builds such sites with Gatsby and measures them whole.

jest.setTimeout(120_000)

const SECURITY = [
  { key: "x-xss-protection", value: "1; mode=block" },
  { key: "x-content-type-options", value: "nosniff" },
  { key: "referrer-policy", value: "same-origin" },
  { key: "x-frame-options", value: "DENY" },
]
const REVALIDATE = [{ key: "cache-control", value: "public, max-age=0, must-revalidate" }, ...SECURITY]

function manifest(pages: number): RoutesManifest {
  const routes: unknown[] = [
    { type: "static", path: "/", filePath: "public/index.html", headers: REVALIDATE },
    {
      type: "static",
      path: "/page-data/app-data.json",
      filePath: "public/page-data/app-data.json",
      headers: REVALIDATE,
    },
  ]
  for (let n = 0; n < pages; n++) {
    // Fresh arrays for each, as Gatsby hands them over.
    routes.push(
      {
        type: "static",
        path: `/posts/${n}/`,
        filePath: `public/posts/${n}/index.html`,
        headers: [...REVALIDATE],
      },
      {
        type: "static",
        path: `/page-data/posts/${n}/page-data.json`,
        filePath: `public/page-data/posts/${n}/page-data.json`,
        headers: [...REVALIDATE],
      },
    )
  }
  for (let n = 0; n < pages / 5; n++) {
    routes.push(
      { type: "function", path: `/archive/${n}/`, functionId: "ssr-engine", cache: true },
      {
        type: "function",
        path: `/page-data/archive/${n}/page-data.json`,
        functionId: "ssr-engine",
        cache: true,
      },
    )
  }
  return routes as RoutesManifest
}

// A site's folder with the routes file that the adapter writes for it at the end of gatsby build
// (routesFile: what ../index.js writes; the rest of its work, compressing public/ and the standalone
// folder, is not what is measured here).
function adaptedSite(pages: number): string {
  const site = mkdtempSync(path.join(os.tmpdir(), `node-adapter-${pages}-pages-`))
  const files: Record<string, string> = {
    "public/index.html": "<h1>Home</h1>",
    "public/page-data/app-data.json": "{}",
    ".cache/page-ssr/lambda.js": "exports.default = async (req, res) => res.send('')",
    [ROUTES_FILE]: JSON.stringify(
      routesFile({
        trailingSlash: "always",
        routes: manifest(pages),
        functions: [{ functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" }],
        headerRoutes: [{ path: "/*", headers: SECURITY }],
      }),
    ),
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(site, file)), { recursive: true })
    writeFileSync(path.join(site, file), text)
  }
  return site
}

// The heap a server of the site holds once created, after a full collection, in a process of its own.
function heapOfServer(site: string): number {
  const script = `
    const { createServer } = require(${JSON.stringify(path.join(__dirname, "../src/server.js"))})
    createServer({ root: ${JSON.stringify(site)}, cacheBytes: 64 * 2 ** 20, log: () => {} }).then(async (app) => {
      await app.ready()
      gc(); gc()
      console.log(process.memoryUsage().heapUsed)
      await app.close()
    })`
  const run = spawnSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8" })
  if (run.status !== 0) throw new Error(run.stderr)
  return Number(run.stdout.trim().split("\n").pop())
}

let small: string
let big: string
beforeAll(() => {
  small = adaptedSite(10)
  big = adaptedSite(5000)
})
afterAll(() => {
  for (const site of [small, big]) rmSync(site, { recursive: true, force: true })
})

test("holds under half a kilobyte of heap for each page of a site of thousands, before any request", () => {
  const pages = 5000 - 10
  const perPage = (heapOfServer(big) - heapOfServer(small)) / pages

  // A page is two routes (the page and its page-data), and a fifth of a deferred page's two more.
  expect(perPage).toBeLessThan(512)
})
