import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync } from "node:fs"
import path from "node:path"

// The files of a git checkout as a fresh clone has them (git's files and the new ones it does not
// ignore; none of its installs or builds), copied into `to`.
export function copyCheckout(from: string, to: string): void {
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: from,
    encoding: "utf8",
  })
  if (files.status !== 0) throw new Error(`git ls-files failed: ${files.stderr}`)
  for (const file of files.stdout.split("\0").filter(Boolean)) {
    if (!existsSync(path.join(from, file))) continue // deleted, not yet committed
    mkdirSync(path.dirname(path.join(to, file)), { recursive: true })
    cpSync(path.join(from, file), path.join(to, file))
  }
}
