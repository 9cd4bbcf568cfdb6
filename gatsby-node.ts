import { existsSync } from "node:fs"
import { mkdir, readFile, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import type { GatsbyNode } from "gatsby"
import { dogImageSources } from "./src/dog-picture"

// The breed pages show their dog through the server's image addresses (src/dog-picture.ts): the
// server fetches only what the build allows.
export const onPluginInit: GatsbyNode["onPluginInit"] = ({ actions }) => {
  actions.addRemoteFileAllowedUrl?.(dogImageSources())
}

// gatsby develop writes a page-data.json for every page into public/, SSR pages included, without their
// serverData. gatsby build writes none for SSR pages (theirs is made per request) but leaves develop's,
// and gatsby serve's static files come before its SSR route, so a client-side navigation would get the
// stale file: no getServerData, no dog. So each build takes those files out of public/. The next
// gatsby develop still counts on finding its own files there, and gets them back.

// Keyed by file, in the cache Gatsby keeps for this site's gatsby-node.
const DEVELOP_PAGE_DATA = "page-data of SSR pages, written by gatsby develop"
type Stash = Record<string, string>

// Page modes are known only once the build has run (in onPostBuild, not before).
export const onPostBuild: GatsbyNode["onPostBuild"] = async ({ getNodesByType, cache }) => {
  const stash: Stash = (await cache.get(DEVELOP_PAGE_DATA)) ?? {}
  for (const page of getNodesByType("SitePage")) {
    if (page.mode === "SSG") continue
    // Gatsby's layout: "/" → page-data/index/, "/breeds/[breed]/" → page-data/breeds/[breed]/.
    const dir = String(page.path).replace(/^\/+|\/+$/g, "") || "index"
    const file = path.join("public/page-data", dir, "page-data.json")
    if (!existsSync(file)) continue
    stash[file] = await readFile(file, "utf8")
    await rm(file)
  }
  await cache.set(DEVELOP_PAGE_DATA, stash)
}

export const onPreBootstrap: GatsbyNode["onPreBootstrap"] = async ({ cache }) => {
  if (process.env.gatsby_executing_command !== "develop") return
  const stash: Stash = (await cache.get(DEVELOP_PAGE_DATA)) ?? {}
  for (const [file, pageData] of Object.entries(stash)) {
    if (existsSync(file)) continue
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, pageData)
  }
  await cache.del(DEVELOP_PAGE_DATA)
}
