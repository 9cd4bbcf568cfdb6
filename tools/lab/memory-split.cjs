// What one server process holds of a build, and how long it takes to load it, stage by stage, as
// createServer loads it: Node with the server's modules, the routes the adapter wrote, Gatsby's engines
// and datastore, the route table, the address finder, and the rest of createServer (the framework, the
// fast lane's index of files, the caches' structures). Run by big.ts as `node --expose-gc memory-split.cjs <site>`, in a
// process of its own; prints one JSON line per stage: heap in use and resident memory after a full
// collection, and the stage's time. (CommonJS: it loads the adapter's modules as the server does.)
const path = require("node:path")

const site = path.resolve(process.argv[2])
const adapter = path.dirname(require.resolve("gatsby-adapter-node/package.json", { paths: [site] }))
const load = (file) => require(path.join(adapter, "src", file))

const stages = []
let last = { at: performance.now() }
function stage(name) {
  global.gc()
  global.gc()
  const { heapUsed, rss, external, arrayBuffers } = process.memoryUsage()
  const at = performance.now()
  stages.push({
    stage: name,
    heapMb: heapUsed / 2 ** 20,
    rssMb: rss / 2 ** 20,
    externalMb: (external + arrayBuffers) / 2 ** 20,
    ms: at - last.at,
  })
  last = { at: performance.now() }
}

async function main() {
  process.chdir(site)
  stage("node")
  const { createServer } = load("server.js")
  const { loadBuild } = load("build.js")
  const routes = load("routes.js")
  stage("the server's modules")
  const text = require("node:fs").readFileSync(path.join(site, routes.ROUTES_FILE), "utf8")
  const parsed = JSON.parse(text)
  const plainCount = parsed.plain ? parsed.plain.split("\n").length : 0
  stage(
    `the routes (${parsed.routes.length} and ${plainCount} plain, in ${(text.length / 2 ** 20).toFixed(1)} MB of JSON)`,
  )
  const build = loadBuild(site)
  stage("the build, with Gatsby's Functions (the engine waits for its first page)")
  const table = routes.routeTable(build, undefined)
  stage(`the route table (${table.length} addresses)`)
  const find = routes.addressFinder(table, routes.plainIndex(build))
  stage("the address finder, with the plain routes' index")
  const app = await createServer({ root: site, cacheBytes: 64 * 2 ** 20, log: () => {} })
  await app.ready()
  stage("createServer, whole, beside the above")
  for (const { functionId, pathToEntryPoint } of parsed.functions) {
    if (functionId === routes.ENGINE) require(path.join(site, pathToEntryPoint))
  }
  stage("Gatsby's engine and datastore, at the first page it renders")
  for (const line of stages) console.log(JSON.stringify(line))
  await app.close()
  // Kept alive until here, so that no collection takes them before the last stage is measured.
  void [parsed, build, table, find]
  process.exit(0)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
