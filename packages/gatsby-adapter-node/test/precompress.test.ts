import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { brotliDecompressSync, gunzipSync } from "node:zlib"
import { precompress } from "../src/precompress"

// What the adapter does to public/ at the end of a build: each text file's brotli and gzip forms beside it.

let dir: string
const page = `<!doctype html><title>Dogs</title>${"<p>A good dog.</p>".repeat(100)}`

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "precompress-"))
  mkdirSync(path.join(dir, "page-data/ssr"), { recursive: true })
  writeFileSync(path.join(dir, "index.html"), page)
  writeFileSync(path.join(dir, "page-data/ssr/page-data.json"), JSON.stringify({ dogs: page }))
  writeFileSync(path.join(dir, "small.js"), "console.log('dog')")
  writeFileSync(path.join(dir, "dog.png"), Buffer.alloc(4096, 1))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

test("writes a text file's brotli and gzip forms beside it, in every folder", async () => {
  await precompress(dir)

  for (const file of ["index.html", "page-data/ssr/page-data.json"]) {
    const original = await readFile(path.join(dir, file))
    expect(brotliDecompressSync(await readFile(path.join(dir, `${file}.br`)))).toEqual(original)
    expect(gunzipSync(await readFile(path.join(dir, `${file}.gz`)))).toEqual(original)
  }
})

test("leaves files under 1 KB and images as they are", async () => {
  await precompress(dir)

  for (const file of ["small.js", "dog.png"]) {
    expect(existsSync(path.join(dir, `${file}.br`))).toBe(false)
    expect(existsSync(path.join(dir, `${file}.gz`))).toBe(false)
  }
})

test("compresses more files than a process may have open at once", () => {
  for (let n = 0; n < 600; n++) {
    mkdirSync(path.join(dir, `posts/${n}`), { recursive: true })
    writeFileSync(path.join(dir, `posts/${n}/index.html`), page)
  }
  const precompressFile = path.join(__dirname, "../src/precompress.js")

  // 128 files open at most, as a site of 50,000 pages outnumbers a machine's own bound.
  const run = spawnSync(
    "bash",
    [
      "-c",
      `ulimit -n 128 && "${process.execPath}" -e 'require(process.argv[1]).precompress(process.argv[2])' "${precompressFile}" "${dir}"`,
    ],
    { encoding: "utf8" },
  )

  expect(run.stderr).toBe("")
  expect(run.status).toBe(0)
  expect(existsSync(path.join(dir, "posts/599/index.html.br"))).toBe(true)
})
