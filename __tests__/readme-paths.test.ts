import { existsSync, readdirSync, readFileSync } from "node:fs"
import path from "node:path"

// The README and docs/ name files and link to each other; a move must not leave one pointing nowhere.

const root = path.join(__dirname, "..")
const documents = [
  "README.md",
  ...readdirSync(path.join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
]

// Files that "Add your own SSR page" has a fork write: named, not there.
const EXAMPLES = ["src/quote-api.ts", "src/pages/quote.tsx"]

// The folders the README says a fork may delete. A link into one that the fork deleted points into
// what it chose to drop, not nowhere by mistake; while the folder is there, its links are checked.
const OPTIONAL = ["tools/lab", "packages/gatsby-adapter-node"]
const inDeletedOptionalFolder = (target: string) =>
  OPTIONAL.some((folder) => target.startsWith(`${folder}/`) && !existsSync(path.join(root, folder)))

// Relative link targets, without their #anchor.
function links(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target.split("#")[0])
    .filter((target) => target && !/^[a-z]+:/.test(target))
}

// Paths in backticks that name a file or folder of the repository: a known top folder or file first.
function namedPaths(text: string): string[] {
  const tops = readdirSync(root).filter(
    (name) => !["node_modules", ".git", ".cache", "public"].includes(name),
  )
  return [...text.matchAll(/`([^`\s]+)`/g)]
    .map(([, token]) => token.replace(/[,.:;]$/, ""))
    .filter((token) => tops.includes(token.split("/")[0]) && !token.includes("*") && !token.includes("<"))
}

test.each(documents)("every file that %s links to exists", (document) => {
  const text = readFileSync(path.join(root, document), "utf8")
  const missing = links(text)
    .map((target) => path.posix.join(path.posix.dirname(document), target))
    .filter((target) => !existsSync(path.join(root, target)) && !inDeletedOptionalFolder(target))

  expect(missing).toEqual([])
})

test("every file the README names exists", () => {
  const text = readFileSync(path.join(root, "README.md"), "utf8")
  const missing = namedPaths(text).filter(
    (named) =>
      !EXAMPLES.includes(named) && !existsSync(path.join(root, named)) && !inDeletedOptionalFolder(named),
  )

  expect(missing).toEqual([])
})
