import { spawn, spawnSync, type SpawnOptions } from "node:child_process"
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
import { expect, test as base } from "./fixtures"
import { freePort, root } from "./gatsby"

// The README's deploy section, followed as written in a folder of its own, and the Dockerfile's last
// stage run on what the build makes (Docker cannot run here). Each server is
// started as a host starts it, and stopped with SIGTERM.

// A fresh copy of the repository, as a clone has it (git's files, none of its ignored ones), for the
// worker: where the READMEs' commands run, away from the build that the other tests serve.
const test = base.extend<object, { clone: string }>({
  clone: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const clone = mkdtempSync(path.join(os.tmpdir(), "gatsby-ssr-dogs-clone-"))
      const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
        cwd: root,
        encoding: "utf8",
      })
      if (files.status !== 0) throw new Error(`git ls-files failed: ${files.stderr}`)
      for (const file of files.stdout.split("\0").filter(Boolean)) {
        if (!existsSync(path.join(root, file))) continue // deleted, not yet committed
        mkdirSync(path.dirname(path.join(clone, file)), { recursive: true })
        cpSync(path.join(root, file), path.join(clone, file))
      }
      try {
        await use(clone)
      } finally {
        rmSync(clone, { recursive: true, force: true })
      }
    },
    { scope: "worker" },
  ],
})

// The environment a person has in a shell: not the npm_* settings of the `npm test` that runs this.
const shellEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))

type Running = { output(): string; ended(): boolean; stop(): Promise<number | null> }

// A command in a process group of its own (a shell and what it starts), stopped by signalling the group.
function start(command: string, args: string[], options: SpawnOptions): Running {
  const child = spawn(command, args, { ...options, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  const ended = () => child.exitCode !== null || child.signalCode !== null
  return {
    output: () => output,
    ended,
    stop: async () => {
      if (!ended()) process.kill(-child.pid!, "SIGTERM")
      return exited
    },
  }
}

// Waits until /healthz answers 200, or fails with what the command printed if it ends first.
async function untilHealthy(origin: string, running: Running, deadline: number): Promise<void> {
  for (;;) {
    const healthy = await fetch(`${origin}/healthz`).then(
      (res) => res.ok,
      () => false,
    )
    if (healthy) return
    if (running.ended() || Date.now() > deadline) {
      throw new Error(`no answer from ${origin}:\n${running.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

function chownTree(dir: string, uid: number, gid: number): void {
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    lchownSync(path.join(entry.parentPath, entry.name), uid, gid)
  }
  lchownSync(dir, uid, gid)
}

// The first ```sh block after `marker` in a README.
function shellBlock(readme: string, marker: string): string {
  const text = readFileSync(path.join(root, readme), "utf8")
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(text.indexOf(marker)))
  if (text.indexOf(marker) === -1 || !block) throw new Error(`${readme} has no sh block after "${marker}"`)
  return block[1]
}

test("the root README's commands for any Node host install, build and serve the site", async ({
  clone,
  api,
}) => {
  test.setTimeout(900_000)
  const port = await freePort()
  const block = shellBlock("README.md", "**Any Node host**")
  expect(block).toContain("PORT=8080")

  const server = start("bash", ["-e", "-c", block.replace("PORT=8080", `PORT=${port}`)], {
    cwd: clone,
    env: { ...shellEnv, HOST: "127.0.0.1", DOG_API_URL: api.apiUrl },
  })
  try {
    await untilHealthy(`http://127.0.0.1:${port}`, server, Date.now() + 840_000)

    expect((await fetch(`http://127.0.0.1:${port}/ssr/`)).status).toBe(200)
  } finally {
    await server.stop()
  }
})

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

type Container = Running & { origin: string; env: NodeJS.ProcessEnv; node: string }

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
  const port = await freePort()
  const asRoot = process.getuid?.() === 0
  if (asRoot && chown) chownTree(workdir, 65534, 65534)
  // The image's own Node, as node:24-slim has one in /usr/local/bin: this one, copied where the other
  // user can run it (the tests' Node may sit in a folder only its owner can enter).
  const bin = path.join(container, "usr/local/bin")
  mkdirSync(bin, { recursive: true })
  cpSync(process.execPath, path.join(bin, "node"))
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    ...imageEnv,
    PORT: String(port),
    HOST: "127.0.0.1",
    TMPDIR: tmp,
  }
  expect(command[0]).toBe("node")
  const server = start(path.join(bin, "node"), command.slice(1), {
    cwd: workdir,
    env: { ...env, DOG_API_URL: dogApiUrl },
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  })
  const origin = `http://127.0.0.1:${port}`
  try {
    await untilHealthy(origin, server, Date.now() + 30_000)
  } catch (error) {
    await server.stop()
    remove()
    throw error
  }
  return { ...server, origin, env, node: path.join(bin, "node"), remove }
}

const imageTest = test.extend<{ image: Container }>({
  image: async ({ build, api }, use) => {
    void build // requested for its effect: the production build exists
    const image = await runImage(api.apiUrl)
    try {
      await use(image)
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
      expect({ page, status: (await fetch(`${image.origin}${page}`)).status }).toEqual({ page, status: 200 })
    }
    expect(argsOf(runtime, "USER")).toEqual(["node"])
  },
)

imageTest(
  "the image's health check passes while the server serves, and fails once it stops",
  async ({ image }) => {
    const check = () => spawnSync(image.node, healthcheck.slice(1), { env: image.env }).status
    expect(healthcheck[0]).toBe("node")
    expect(check()).toBe(0)

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
