import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { defaultWorkerCount, measureWorker, WORKER_FILE } from "../src/memory"

// How many workers the server runs by default (src/memory.js): one per core, as many as the memory
// holds of what a worker of the build takes, measured when the build is made.

const MiB = 2 ** 20
const caches = 128 * MiB

test("runs no more workers than the memory holds of what a worker of this build takes", () => {
  const { workers, why } = defaultWorkerCount({
    cores: 16,
    memory: 1024 * MiB,
    size: { restBytes: 300 * MiB },
    cachesBytes: caches,
  })

  // 300 MiB at rest, 128 MiB of caches, 75 MiB for renders: two in 1 GiB.
  expect(workers).toBe(2)
  expect(why).toBe(
    "one per core (16), as many as 1024 MiB hold: a worker of this build takes 300 MiB at rest, and up to 128 MiB of caches; 503 MiB each fit 2",
  )
})

test("runs one worker per core where the memory holds more", () => {
  expect(
    defaultWorkerCount({
      cores: 2,
      memory: 24 * 1024 * MiB,
      size: { restBytes: 300 * MiB },
      cachesBytes: caches,
    }).workers,
  ).toBe(2)
})

test("runs one worker, never none, where the memory holds less than one", () => {
  expect(
    defaultWorkerCount({ cores: 8, memory: 256 * MiB, size: { restBytes: 300 * MiB }, cachesBytes: caches })
      .workers,
  ).toBe(1)
})

test("counts 512 MiB a worker for a build that was not measured", () => {
  const { workers, why } = defaultWorkerCount({
    cores: 8,
    memory: 2048 * MiB,
    size: undefined,
    cachesBytes: caches,
  })

  expect(workers).toBe(4)
  expect(why).toContain("a worker counted at 512 MiB (this build was not measured)")
})

test("measures a worker of a build at rest, and writes it beside the routes", () => {
  const site = mkdtempSync(path.join(os.tmpdir(), "node-adapter-measured-"))
  try {
    const files: Record<string, string> = {
      "public/index.html": "<h1>Home</h1>",
      "public/page-data/app-data.json": "{}",
      ".cache/page-ssr/lambda.js": "exports.default = async (req, res) => res.send('<h1>page</h1>')",
      ".cache/node-server/routes.json": JSON.stringify({
        trailingSlash: "always",
        routes: [
          { type: "static", path: "/", filePath: "public/index.html", headers: [] },
          { type: "function", path: "/page/", functionId: "ssr-engine" },
        ],
        functions: [{ functionId: "ssr-engine", pathToEntryPoint: ".cache/page-ssr/lambda.js" }],
        headerRoutes: [],
      }),
    }
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(site, file)), { recursive: true })
      writeFileSync(path.join(site, file), text)
    }

    const measured = measureWorker(site)

    const written = JSON.parse(readFileSync(path.join(site, WORKER_FILE), "utf8"))
    expect(written).toEqual(measured)
    // A Node process with the server's modules and a build of two routes.
    expect(written.restBytes).toBeGreaterThan(30 * MiB)
    expect(written.restBytes).toBeLessThan(300 * MiB)
  } finally {
    rmSync(site, { recursive: true, force: true })
  }
})

test("says why it could not measure a build it cannot load", () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), "node-adapter-unmeasured-"))
  try {
    const measured = measureWorker(empty)

    expect(measured).toBeInstanceOf(Error)
    expect(String(measured)).toContain("No build to serve in")
  } finally {
    rmSync(empty, { recursive: true, force: true })
  }
})
