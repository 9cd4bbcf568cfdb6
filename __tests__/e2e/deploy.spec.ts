import { spawnSync } from "node:child_process"
import {
  chmodSync,
  cpSync,
  existsSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs"
import os from "node:os"
import path from "node:path"
import { attachOutputOnFailure, startServer, type RunningServer } from "test-harness"
import { expect, root, test } from "./fixtures"

// The Dockerfile's last stage run on what the build makes (Docker cannot run here), started as a host
// starts it and stopped with SIGTERM; and what its build stage copies. (The README's deploy commands,
// which install and build a fresh clone, are readme-deploy.spec.ts's: `npm run test:deploy`.)

function chownTree(dir: string, uid: number, gid: number): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    lchownSync(path.join(entry.parentPath, entry.name), uid, gid)
  }
  lchownSync(dir, uid, gid)
}

// The Dockerfile's stages: each image, and its instructions with their arguments (continued lines
// joined, comments left out).
type Stage = { from: string; instructions: Array<[name: string, args: string]> }

function dockerStages(): Stage[] {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ")
  const stages: Stage[] = []
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line || line.startsWith("#")) continue
    const [, name, args] = /^(\S+)\s+(.*)$/.exec(line)!
    if (name === "FROM") stages.push({ from: args, instructions: [] })
    else stages.at(-1)!.instructions.push([name, args])
  }
  return stages
}

const stages = dockerStages()
const runtime = stages.at(-1)!
const argsOf = (stage: Stage, name: string): string[] =>
  stage.instructions.filter(([n]) => n === name).map(([, args]) => args)
const imageEnv: Record<string, string> = Object.fromEntries(
  argsOf(runtime, "ENV").flatMap((args) =>
    args.split(/\s+/).map((pair) => pair.split("=") as [string, string]),
  ),
)
const healthcheck: string[] = JSON.parse(argsOf(runtime, "HEALTHCHECK")[0].replace(/^.*?CMD\s+/, ""))
const command: string[] = JSON.parse(argsOf(runtime, "CMD")[0])

type Container = RunningServer & { env: NodeJS.ProcessEnv; node: string }

// The last stage as Docker would run it: its COPY --from=build, from the folder that the build stage's
// WORKDIR is here (the repository), into an empty folder; its ENV, with a free port; its CMD, from its
// WORKDIR, with the image's own Node. When the tests run as root, as Docker does, the server runs as
// another user (nobody, for the image's node), who owns the copied files if the COPY gives them to its
// user (--chown) and otherwise cannot write them.
async function runImage(dogApiUrl: string): Promise<Container & { remove(): void }> {
  const buildWorkdir = argsOf(stages[0], "WORKDIR")[0]
  const copy = argsOf(runtime, "COPY")[0].split(/\s+/)
  const [from, to] = copy.filter((arg) => !arg.startsWith("--"))
  const chown = copy.some((arg) => arg.startsWith("--chown="))
  const container = mkdtempSync(path.join(os.tmpdir(), "image-"))
  const remove = () => rmSync(container, { recursive: true, force: true })
  chmodSync(container, 0o755)
  const workdir = path.join(container, argsOf(runtime, "WORKDIR")[0])
  cpSync(path.join(root, path.posix.relative(buildWorkdir, from)), path.join(workdir, to), {
    recursive: true,
  })
  const tmp = path.join(container, "tmp")
  mkdirSync(tmp)
  chmodSync(tmp, 0o1777)
  const asRoot = process.getuid?.() === 0
  if (asRoot && chown) chownTree(workdir, 65534, 65534)
  // The image's own Node, as node:24-slim has one in /usr/local/bin: this one, copied where the other
  // user can run it (the tests' Node may sit in a folder only its owner can enter).
  const bin = path.join(container, "usr/local/bin")
  mkdirSync(bin, { recursive: true })
  cpSync(process.execPath, path.join(bin, "node"))
  const env = { PATH: `${bin}:${process.env.PATH}`, ...imageEnv, TMPDIR: tmp }
  expect(command[0]).toBe("node")
  try {
    const server = await startServer(path.join(bin, "node"), command.slice(1), {
      cwd: workdir,
      env: { ...env, DOG_API_URL: dogApiUrl },
      cleanEnv: true,
      ready: (url) => `${url}/healthz`,
      // Under the test's 30 s, so that the server's output says why.
      deadlineMs: 20_000,
      spawnOptions: asRoot ? { uid: 65534, gid: 65534 } : {},
    })
    // What the image's health check sees: the image's environment, on the port it serves.
    const { port, hostname } = new URL(server.url)
    return { ...server, env: { ...env, PORT: port, HOST: hostname }, node: path.join(bin, "node"), remove }
  } catch (error) {
    remove()
    throw error
  }
}

const imageTest = test.extend<{ image: Container }>({
  image: async ({ api }, use, testInfo) => {
    const image = await runImage(api.apiUrl)
    try {
      // What the image printed (its workers' lines, the primary's), in the report of a test that failed.
      await attachOutputOnFailure(image, () => use(image), testInfo)
    } finally {
      await image.stop()
      image.remove()
    }
  },
})

imageTest(
  "the image's command serves the site from the standalone folder alone, as a user other than root",
  async ({ image }) => {
    for (const page of ["/", "/ssr/", "/breeds/pug/", "/page-data/ssr/page-data.json"]) {
      const res = await fetch(`${image.url}${page}`)
      // The body of any other answer says why (a 503's says which bound it passed).
      const body = res.ok ? "" : await res.text()
      expect({ page, status: res.status, body }).toEqual({ page, status: 200, body: "" })
    }
    expect(argsOf(runtime, "USER")).toEqual(["node"])
  },
)

imageTest(
  "the image's health check passes while the server serves, and fails once it stops",
  async ({ image }) => {
    const check = () => spawnSync(image.node, healthcheck.slice(1), { env: image.env }).status
    // The check says only 0 or 1; what /healthz answered says why.
    const healthz = () =>
      fetch(`${image.url}/healthz`).then(
        async (res) => `/healthz: ${res.status} ${await res.text()}`,
        (error: Error) => `/healthz: ${error.message}`,
      )
    expect(healthcheck[0]).toBe("node")
    expect(check(), await healthz()).toBe(0)

    await image.stop()

    expect(check()).toBe(1)
  },
)

imageTest(
  "the image stops on SIGTERM, with a deadline for its requests shorter than docker stop's 10 s",
  async ({ image }) => {
    expect(argsOf(runtime, "STOPSIGNAL")).toEqual(["SIGTERM"])

    expect(await image.stop()).toBe(0)
    expect(Number(imageEnv.SHUTDOWN_DEADLINE_MS)).toBeLessThan(10_000)
  },
)

test("both stages of the image run the current LTS of Node, which the site's engines allow", () => {
  const images = stages.map((stage) => stage.from.split(/\s+/)[0])
  const major = Number(/^node:(\d+)-slim$/.exec(images[0])?.[1])

  expect(new Set(images)).toEqual(new Set([`node:${major}-slim`]))
  // An even major is a long-term support line; package.json's engines start at 22.
  expect(major % 2).toBe(0)
  expect(major).toBeGreaterThanOrEqual(24)
})

test("the image's build leaves the host's installs and builds out, and has every file it copies", () => {
  const patterns = readFileSync(path.join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
  // Docker's patterns, as this file uses them: a path and what is below it, with **/ for any folder.
  expect(patterns.filter((pattern) => pattern.startsWith("!"))).toEqual([])
  const ignored = (file: string) =>
    patterns.some((pattern) => {
      const anyFolders = pattern.startsWith("**/")
      const regex = pattern
        .replace(/^\*\*\//, "")
        .replaceAll(".", "\\.")
        .replaceAll("*", "[^/]*")
      return new RegExp(`^${anyFolders ? "(?:.*/)?" : ""}${regex}(?:/|$)`).test(file)
    })
  const copied = argsOf(stages[0], "COPY").flatMap((args) => args.split(/\s+/).slice(0, -1))

  for (const file of ["node_modules", "packages/gatsby-adapter-node/node_modules", ".cache", "public"]) {
    expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true })
  }
  for (const file of copied.filter((source) => source !== ".")) {
    expect({ file, there: existsSync(path.join(root, file)), ignored: ignored(file) }).toEqual({
      file,
      there: true,
      ignored: false,
    })
  }
  for (const file of [
    "package.json",
    "gatsby-config.ts",
    "src/pages/ssr.tsx",
    "packages/gatsby-adapter-node/start.js",
  ]) {
    expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: false })
  }
})
