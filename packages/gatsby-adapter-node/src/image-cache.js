// @ts-check
// Images made and files fetched, kept so that each is made once: in memory, the last ones asked for
// within a bound in bytes (lru-cache); then on disk, within a bound in bytes, oldest out first, which a
// restart keeps (a folder of its own, each entry a file written whole, then renamed into place). A
// server's workers share the folder: each finds there what another made, and bounds what it knows of
// (start.js gives each its share of the bound). The fleet's store (shared-cache.js) is the third tier,
// which images.js asks.
const {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} = require("node:fs")
const path = require("node:path")
const { LRUCache } = require("lru-cache")

/**
 * @typedef {{ type: string, body: Buffer }} Made an image made, or a file fetched, as it is sent
 */

/** @param {Made} made @returns {Buffer} the type, a line feed, then the body */
function encodeMade({ type, body }) {
  return Buffer.concat([Buffer.from(`${type}\n`), body])
}

/** @param {Buffer} value @returns {Made | undefined} */
function decodeMade(value) {
  const end = value.indexOf(10)
  if (end < 1 || end > 100) return undefined
  const type = value.subarray(0, end).toString()
  return /^[\w.+-]+\/[\w.+-]+$/.test(type) ? { type, body: value.subarray(end + 1) } : undefined
}

/**
 * @param {{ memoryBytes: number, diskBytes: number, dir: string, onProblem: (what: string, error: unknown) => void }} options
 *   memoryBytes, diskBytes: each tier's bound (0: none); dir: the disk tier's folder; onProblem: told
 *   of a disk that cannot be written (the tier is then left out)
 */
function createImageCache({ memoryBytes, diskBytes, dir, onProblem }) {
  /** @type {LRUCache<string, Made> | undefined} */
  const memory = memoryBytes
    ? new LRUCache({
        maxSize: memoryBytes,
        maxEntrySize: Math.max(1, Math.floor(memoryBytes / 8)),
        sizeCalculation: ({ body, type }) => body.length + type.length,
      })
    : undefined
  /** @type {Map<string, number> | undefined} the entries on disk and their sizes, oldest first */
  let onDisk
  let diskSize = 0
  let diskWorks = diskBytes > 0

  // What the folder holds from before (a restart), read at the first image, not at start.
  const disk = () => {
    if (onDisk || !diskWorks) return onDisk
    try {
      mkdirSync(dir, { recursive: true })
      const entries = readdirSync(dir)
        .filter((name) => /^[0-9a-f]{64}$/.test(name))
        .map((name) => ({ name, ...statSync(path.join(dir, name)) }))
        .sort((a, b) => a.mtimeMs - b.mtimeMs)
      onDisk = new Map(entries.map(({ name, size }) => [name, size]))
      diskSize = entries.reduce((sum, { size }) => sum + size, 0)
    } catch (error) {
      diskWorks = false
      onProblem(`images are not kept on disk (${dir})`, error)
    }
    return onDisk
  }

  return {
    /** @param {string} key @returns {Made | undefined} */
    fromMemory: (key) => memory?.get(key),

    /** @param {string} key @returns {Made | undefined} */
    fromDisk(key) {
      const entries = disk()
      if (!entries) return undefined
      // Looked for on disk even where this process did not write it: the folder is every worker's.
      let made
      let size = 0
      try {
        const value = readFileSync(path.join(dir, key))
        made = decodeMade(value)
        size = value.length
      } catch {
        made = undefined
      }
      if (!made) {
        diskSize -= entries.get(key) ?? 0
        entries.delete(key)
        return undefined
      }
      // Used now: the last to go.
      if (!entries.has(key)) diskSize += size
      entries.delete(key)
      entries.set(key, size)
      memory?.set(key, made)
      return made
    },

    /**
     * Keeps what was made, in memory and on disk.
     * @param {string} key @param {Made} made
     */
    keep(key, made) {
      memory?.set(key, made)
      const entries = disk()
      if (!entries || entries.has(key)) return
      const value = encodeMade(made)
      if (value.length > diskBytes / 8) return
      try {
        const partial = path.join(dir, `${key}.${process.pid}.partial`)
        writeFileSync(partial, value)
        renameSync(partial, path.join(dir, key))
      } catch (error) {
        diskWorks = false
        onDisk = undefined
        onProblem(`images are not kept on disk (${dir})`, error)
        return
      }
      entries.set(key, value.length)
      diskSize += value.length
      // Past the bound, the oldest go, down to nine tenths of it.
      if (diskSize <= diskBytes) return
      for (const [oldest, size] of entries) {
        if (diskSize <= diskBytes * 0.9 || oldest === key) break
        rmSync(path.join(dir, oldest), { force: true })
        entries.delete(oldest)
        diskSize -= size
      }
    },

    /** The bytes on disk, by the cache's count. */
    diskBytes: () => diskSize,
  }
}

module.exports = { createImageCache, encodeMade, decodeMade }
