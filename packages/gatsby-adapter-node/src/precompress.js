// @ts-check
// Static files compressed once, at build time, rather than at every request: beside each text file in
// public/ its brotli (.br, the best quality) and gzip (.gz) forms, which the server (static.js) sends to
// the clients that accept them, as SvelteKit's adapter-node does.
const { readdir, readFile, stat, writeFile } = require("node:fs/promises")
const path = require("node:path")
const { promisify } = require("node:util")
const zlib = require("node:zlib")

const brotli = promisify(zlib.brotliCompress)
const gzip = promisify(zlib.gzip)

// Text that compresses; images, fonts and archives are compressed already.
const COMPRESSIBLE = /\.(html|js|mjs|css|json|svg|txt|xml|map|webmanifest)$/
// Below this, the server sends a file as it is (its compression threshold too).
const MIN_BYTES = 1024
// Files compressed at once: enough to keep libuv's threads, which compress them, busy.
const AT_ONCE = 16

/** @param {string} publicDir @returns {Promise<number>} how many files it compressed */
async function precompress(publicDir) {
  const entries = await readdir(publicDir, { recursive: true, withFileTypes: true })
  const files = entries
    .filter((entry) => entry.isFile() && COMPRESSIBLE.test(entry.name))
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name))
  let compressed = 0
  // A few files at a time, not all at once: a site of 50,000 pages has over 100,000 text files, more
  // than a process may have open (EMFILE), and more than its memory holds.
  const queue = [...files]
  const compressOne = async (/** @type {string} */ file) => {
    if ((await stat(file)).size < MIN_BYTES) return
    const content = await readFile(file)
    const [br, gz] = await Promise.all([
      brotli(content, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: zlib.constants.BROTLI_MAX_QUALITY,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: content.length,
        },
      }),
      gzip(content, { level: zlib.constants.Z_BEST_COMPRESSION }),
    ])
    // A form no smaller than the file is left out: the server then sends the file itself.
    if (br.length < content.length) await writeFile(`${file}.br`, br)
    if (gz.length < content.length) await writeFile(`${file}.gz`, gz)
    compressed++
  }
  await Promise.all(
    Array.from({ length: AT_ONCE }, async () => {
      for (let file = queue.pop(); file; file = queue.pop()) await compressOne(file)
    }),
  )
  return compressed
}

module.exports = { COMPRESSIBLE, MIN_BYTES, precompress }
