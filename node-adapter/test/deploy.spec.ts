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
  statSync,
} from "node:fs"
import os from "node:os"
import path from "node:path"
import { expect, test as base } from "../../e2e/fixtures"
import { freePort, root } from "../../e2e/gatsby"

// The deploy sections of both READMEs, followed as written in folders of their own, and the
// Dockerfile's last stage run on what the build makes (Docker cannot run here). Each server is
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

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((sum, entry) => sum + statSync(path.join(entry.parentPath, entry.name)).size, 0)
}

// The first ```sh block after `marker` in a README.
function shellBlock(readme: string, marker: string): string {
  const text = readFileSync(path.join(root, readme), "utf8")
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(text.indexOf(marker)))
  if (text.indexOf(marker) === -1 || !block) throw new Error(`${readme} has no sh block after "${marker}"`)
  return block[1]
}

// No folder above `dir` has a node_modules in which Node could find what the folder lacks.
function noNodeModulesAbove(dir: string): string[] {
  const found: string[] = []
  for (let up = path.dirname(dir); up !== path.dirname(up); up = path.dirname(up)) {
    if (existsSync(path.join(up, "node_modules"))) found.push(up)
  }
  return found
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

test("the node adapter README's deploy commands serve the standalone folder alone, with Node and no install", async ({
  clone,
  api,
}) => {
  test.setTimeout(900_000)
  // Installed, as the Quick start has a person do before anything else (the test before this one does).
  if (!existsSync(path.join(clone, "node_modules"))) {
    const install = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: clone, env: shellEnv })
    expect(install.status).toBe(0)
  }
  const host = mkdtempSync(path.join(os.tmpdir(), "deploy-host-"))
  mkdirSync(path.join(host, "srv"))
  const port = await freePort()
  const block = shellBlock("node-adapter/README.md", "## Deploying")
  expect(block).toContain("PORT=9000")

  const server = start(
    "bash",
    [
      "-e",
      "-c",
      block.replaceAll("/srv/site", path.join(host, "srv/site")).replace("PORT=9000", `PORT=${port}`),
    ],
    { cwd: clone, env: { ...shellEnv, HOST: "127.0.0.1", DOG_API_URL: api.apiUrl } },
  )
  try {
    await untilHealthy(`http://127.0.0.1:${port}`, server, Date.now() + 840_000)

    expect(noNodeModulesAbove(path.join(host, "srv/site"))).toEqual([])
    // About 23 MB for this site: the node_modules it needs, not a Node binary or a whole install.
    expect(folderBytes(path.join(host, "srv/site"))).toBeLessThan(50 * 1024 * 1024)
    expect(readdirSync(path.join(host, "srv/site"))).not.toContain("package-lock.json")
    // Every route of the build: each file, each page (a breed for a param), each redirect.
    const { routes } = JSON.parse(
      readFileSync(path.join(host, "srv/site/.cache/node-server/routes.json"), "utf8"),
    ) as { routes: Array<{ type: string; path: string; status?: number; functionId?: string }> }
    const wrong: string[] = []
    for (const route of routes.filter((r) => r.path.startsWith("/"))) {
      const url = route.path.replace(/:[^/]+/g, "pug").replace(/\*.*$/, "x")
      const { status } = await fetch(`http://127.0.0.1:${port}${url}`, { redirect: "manual" })
      // A Gatsby Function decides its own answer (the favourite-breed form's refuses a GET): it is
      // there when it is neither a 404 nor a failure.
      const answered =
        route.type === "redirect"
          ? status === route.status
          : route.type === "function" && route.functionId !== "ssr-engine"
            ? status !== 404 && status < 500
            : status === 200
      if (!answered) wrong.push(`${url}: ${status}`)
    }
    expect(routes.length).toBeGreaterThan(20)
    expect(wrong).toEqual([])
  } finally {
    await server.stop()
    rmSync(host, { recursive: true, force: true })
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
  // An even major is a long-term support line; package.json's engines start at 20.18.
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
      const regex = pattern
        .replaceAll(".", "\\.")
        .replace(/^\*\*\//, "(?:.*/)?")
        .replaceAll("*", "[^/]*")
      return new RegExp(`^${regex}(?:/|$)`).test(file)
    })
  const copied = argsOf(stages[0], "COPY").flatMap((args) => args.split(/\s+/).slice(0, -1))

  for (const file of ["node_modules", "node-adapter/node_modules", ".cache", "public"]) {
    expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true })
  }
  for (const file of copied.filter((source) => source !== ".")) {
    expect({ file, there: existsSync(path.join(root, file)), ignored: ignored(file) }).toEqual({
      file,
      there: true,
      ignored: false,
    })
  }
  for (const file of ["package.json", "gatsby-config.ts", "src/pages/ssr.tsx", "node-adapter/start.js"]) {
    expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: false })
  }
})
