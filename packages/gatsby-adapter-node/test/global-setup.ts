import { spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { REMOTE_IMAGES_ENV, startRemoteImages } from "./remote-images"
import { INSTALL_ENV, PACKED_ENV, SITES } from "./sites"

// The package as its users get it: `npm pack`, then the tarball installed, with Gatsby and React, into
// a folder outside this repository (no workspace, no hoisting by chance), once per run. Each fixture
// site is then a copy of its own beside that install (sites.ts). An install of the same tarball and
// manifest is kept between runs, since it takes a minute; any other is removed.

const packageDir = path.join(__dirname, "..")
const repository = path.join(packageDir, "../..")

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, npm_config_loglevel: "error" },
  })
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`)
  return result.stdout
}

// gatsby-plugin-image of Gatsby 5.16's line (the repository's site does not use it).
const GATSBY_PLUGIN_IMAGE = "^3.16.0"

// Gatsby and React in the versions the repository uses, so that the install finds them in npm's cache.
function installedVersion(name: string): string {
  const manifest = JSON.parse(
    readFileSync(path.join(repository, "node_modules", name, "package.json"), "utf8"),
  )
  return `^${(manifest as { version: string }).version}`
}

export default async function setUp(): Promise<() => Promise<void>> {
  installPackedAdapter()
  // Each fixture site's build and server ask it for their images (sites.ts passes the variable on).
  const images = await startRemoteImages()
  process.env[REMOTE_IMAGES_ENV] = images.url
  return images.close
}

function installPackedAdapter(): void {
  const packDir = path.join(os.tmpdir(), "gatsby-adapter-node-pack")
  rmSync(packDir, { recursive: true, force: true })
  mkdirSync(packDir)
  const [packed] = JSON.parse(
    run("npm", ["pack", "--json", "--pack-destination", packDir], packageDir),
  ) as Array<{
    filename: string
    size: number
    entryCount: number
  }>
  const tarball = path.join(packDir, packed.filename)
  const manifest = {
    private: true,
    dependencies: {
      gatsby: installedVersion("gatsby"),
      "gatsby-adapter-node": `file:${tarball}`,
      // The basic fixture's remote images, as a site with a CMS shows them.
      "gatsby-plugin-image": GATSBY_PLUGIN_IMAGE,
      react: installedVersion("react"),
      "react-dom": installedVersion("react-dom"),
    },
    // Gatsby's sharp 0.32 downloads libvips at install, which a closed network cannot: the fixture
    // sites get the site's sharp 0.35, from the npm registry (tools/sharp, docs/install-notes.md).
    overrides: { sharp: `file:${path.join(repository, "tools/sharp")}` },
  }
  // The same tarball and manifest find their install of an earlier run.
  const digest = createHash("sha256")
    .update(readFileSync(tarball))
    .update(JSON.stringify(manifest))
    .digest("hex")
    .slice(0, 12)
  const install = path.join(os.tmpdir(), `gatsby-adapter-node-install-${digest}`)
  for (const stale of readdirSync(os.tmpdir()).filter((name) =>
    name.startsWith("gatsby-adapter-node-install-"),
  )) {
    if (path.join(os.tmpdir(), stale) !== install)
      rmSync(path.join(os.tmpdir(), stale), { recursive: true, force: true })
  }
  const done = path.join(install, "node_modules", ".installed")
  if (!existsSync(done)) {
    rmSync(install, { recursive: true, force: true })
    mkdirSync(install)
    writeFileSync(path.join(install, "package.json"), JSON.stringify(manifest, null, 2))
    // --install-links copies tools/sharp in, as a registry package would be, rather than linking to it.
    run("npm", ["install", "--prefer-offline", "--install-links", "--no-audit", "--no-fund"], install)
    writeFileSync(done, "")
  }
  process.env[INSTALL_ENV] = install
  process.env[PACKED_ENV] = JSON.stringify({ files: packed.entryCount, bytes: packed.size })
  rmSync(SITES, { recursive: true, force: true })
}
