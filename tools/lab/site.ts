import { existsSync, readdirSync, statSync } from "node:fs"
import path from "node:path"
import { buildSite } from "test-harness"

// The site the lab measures: the repository's root, two folders up.
export const root = path.resolve(import.meta.dirname, "../..")

function newestFile(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const full = path.join(dir, entry.name)
      return entry.isDirectory() ? newestFile(full) : statSync(full).mtimeMs
    }),
  )
}

// gatsby develop deletes the production engines, and a change to src/ makes a build stale.
export function buildIfNeeded(): void {
  const engine = path.join(root, ".cache/page-ssr/index.js")
  const html = path.join(root, "public/index.html")
  if (existsSync(engine) && existsSync(html) && statSync(html).mtimeMs > newestFile(path.join(root, "src")))
    return
  console.log("Building (gatsby build)…")
  buildSite(root)
}
