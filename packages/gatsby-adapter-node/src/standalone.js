// @ts-check
// The standalone build (as Next.js's `output: "standalone"`): one folder with the server, what Gatsby
// compiled, public/, and only those files of node_modules that they load, found by @vercel/nft (the file
// tracer Next.js uses). Node alone runs it: `node server.js`, no npm install on the host.
const {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} = require("node:fs")
const path = require("node:path")
const { WORKER_FILE } = require("./memory")
const { ROUTES_FILE } = require("./routes")

// Where the build writes it, beside the routes file, so that `gatsby clean` removes it with the rest.
const STANDALONE_DIR = path.join(".cache", "node-server", "standalone")

/**
 * @param {{ siteDir: string, functions: Array<{ pathToEntryPoint: string, requiredFiles: string[] }> }} build
 *   siteDir: the site's folder; functions: Gatsby's functions manifest (the SSR engine and src/api/),
 *   paths relative to siteDir.
 * @returns {Promise<{ dir: string, files: number }>} the folder, and how many files it took beside public/
 */
async function writeStandalone({ siteDir, functions }) {
  const { nodeFileTrace } = require("@vercel/nft")
  const adapterDir = path.join(__dirname, "..")
  const startFile = path.join(adapterDir, "start.js")
  const fromSite = (/** @type {string} */ file) => path.join(siteDir, file)
  const gatsbyFiles = functions.flatMap(({ pathToEntryPoint, requiredFiles }) =>
    [pathToEntryPoint, ...requiredFiles].map(fromSite),
  )
  const base = path.parse(siteDir).root
  const trace = async (/** @type {string[]} */ entries) =>
    [...(await nodeFileTrace(entries, { base })).fileList].map((file) => path.join(base, file))
  const firstPass = await trace([startFile, ...gatsbyFiles.filter((file) => /\.[cm]?js$/.test(file))])
  // A package's "module-sync" export (async-function's, under get-intrinsic), which Node 20.19 and
  // later load and the tracer can pass over (in an array of targets), is traced too.
  const fileList = [...firstPass, ...(await trace(moduleSyncFiles(firstPass)))]
  // The folder that holds the site, this package and the node_modules they load: the site's own, or a
  // repository's when the site is one of its workspaces. The standalone folder keeps the layout below
  // it. A node_modules counts where Node looks for packages, in a folder above the site or this
  // package; what the tracer finds elsewhere is Node's own business (/usr/bin/ldd, /proc/self, the
  // node binary itself) and is left out.
  const searched = new Set([...ancestors(siteDir), ...ancestors(adapterDir)])
  const marker = `${path.sep}node_modules${path.sep}`
  const packageRoots = fileList
    .filter((file) => file.includes(marker))
    .map((file) => file.slice(0, file.indexOf(marker)) || path.sep)
    .filter((dir) => searched.has(dir))
  const root = commonAncestor([siteDir, adapterDir, ...packageRoots])
  const files = new Set(
    [...fileList, ...gatsbyFiles]
      .map((file) => path.relative(root, file))
      .filter((file) => !file.startsWith("..")),
  )

  const outDir = path.join(siteDir, STANDALONE_DIR)
  rmSync(outDir, { recursive: true, force: true })
  for (const file of files) {
    const from = path.join(root, file)
    const to = path.join(outDir, file)
    mkdirSync(path.dirname(to), { recursive: true })
    // Gatsby lists public/404.html and public/500.html among the engine's requiredFiles whether or not
    // the site has those pages: a file that is not there is not needed.
    const stat = lstatSync(from, { throwIfNoEntry: false })
    if (stat?.isSymbolicLink()) symlinkSync(readlinkSync(from), to)
    else if (stat?.isFile()) copyFileSync(from, to)
  }
  const siteRel = path.relative(root, siteDir)
  cpSync(path.join(siteDir, "public"), path.join(outDir, siteRel, "public"), { recursive: true })
  const routesFile = path.join(outDir, siteRel, ROUTES_FILE)
  mkdirSync(path.dirname(routesFile), { recursive: true })
  copyFileSync(path.join(siteDir, ROUTES_FILE), routesFile)
  if (existsSync(path.join(siteDir, WORKER_FILE)))
    copyFileSync(path.join(siteDir, WORKER_FILE), path.join(outDir, siteRel, WORKER_FILE))
  const siteAt = siteRel
    ? `require("node:path").join(__dirname, ${JSON.stringify(siteRel.split(path.sep).join("/"))})`
    : "__dirname"
  const start = path.relative(root, startFile).split(path.sep).join("/")
  writeFileSync(
    path.join(outDir, "server.js"),
    `// Written by gatsby-adapter-node at build time. \`node server.js\` serves the site in this folder; the\n` +
      `// settings are those of npx gatsby-adapter-node (PORT, HOST, ...).\n` +
      `process.env.SITE_DIR = ${siteAt}\n` +
      `require("./${start}")\n`,
  )
  return { dir: outDir, files: files.size }
}

/**
 * The files that the traced packages' exports name under a "module-sync" condition.
 * @param {string[]} fileList absolute paths @returns {string[]}
 */
function moduleSyncFiles(fileList) {
  /** @type {string[]} */
  const found = []
  for (const manifest of fileList.filter((file) => path.basename(file) === "package.json")) {
    /** @type {unknown} */
    let exportsField
    try {
      exportsField = JSON.parse(readFileSync(manifest, "utf8")).exports
    } catch {
      continue
    }
    /** @param {unknown} value @param {boolean} underModuleSync */
    const walk = (value, underModuleSync) => {
      if (typeof value === "string") {
        if (underModuleSync && value.startsWith("./")) found.push(path.join(path.dirname(manifest), value))
      } else if (Array.isArray(value)) {
        for (const item of value) walk(item, underModuleSync)
      } else if (value && typeof value === "object") {
        for (const [key, item] of Object.entries(value)) walk(item, underModuleSync || key === "module-sync")
      }
    }
    walk(exportsField, false)
  }
  return found.filter((file) => existsSync(file))
}

/** @param {string} dir an absolute path @returns {string[]} it and every folder above it */
function ancestors(dir) {
  const found = [path.resolve(dir)]
  while (path.dirname(found[found.length - 1]) !== found[found.length - 1]) {
    found.push(path.dirname(found[found.length - 1]))
  }
  return found
}

/** @param {string[]} dirs absolute paths @returns {string} the deepest folder that holds them all */
function commonAncestor(dirs) {
  const [first, ...rest] = dirs.map((dir) => path.resolve(dir).split(path.sep))
  let depth = first.length
  for (const parts of rest) {
    let same = 0
    while (same < Math.min(depth, parts.length) && parts[same] === first[same]) same++
    depth = same
  }
  return first.slice(0, depth).join(path.sep) || path.sep
}

module.exports = { STANDALONE_DIR, writeStandalone }
