import { existsSync, readFileSync, writeFileSync } from "node:fs"
import path from "node:path"

const docs = path.resolve(import.meta.dirname, "../../docs/benchmarks.md")

// docs/benchmarks.md has a section for each script (bench, profile, lighthouse) between markers, so
// that each rewrites its own numbers and leaves the rest of the page as it is.
export function writeBenchmarksSection(name: string, body: string): void {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  const section = `${start}\n${body}\n${end}`
  const markdown = existsSync(docs) ? readFileSync(docs, "utf8") : "# Benchmarks\n"
  writeFileSync(
    docs,
    markdown.includes(start)
      ? markdown.slice(0, markdown.indexOf(start)) +
          section +
          markdown.slice(markdown.indexOf(end) + end.length)
      : `${markdown.trimEnd()}\n\n${section}\n`,
  )
  console.log(`Written to docs/benchmarks.md (${name})`)
}
