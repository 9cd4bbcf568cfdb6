import { spawnSync } from "node:child_process"
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs"
import os from "node:os"
import path from "node:path"
import { buildSite } from "test-harness"
import { root } from "./site"

// Copies of the site with one thing changed, each built beside the site in lab/.builds/<name>/ with the
// same Gatsby, so that the bench can serve them with the same server and hold them side by side (A/B).

export type Variant = { name: string; what: string; patch(site: string): void }

function edit(file: string, from: RegExp, to: string): void {
  const text = readFileSync(file, "utf8")
  if (!from.test(text)) throw new Error(`${file} no longer has ${from}: update the lab's variant`)
  writeFileSync(file, text.replace(from, to))
}

const FETCH_GET_TEXT = `// The A/B twin: fetch with AbortSignal.timeout, as the site had it before.
async function getText(url: URL, timeout: number, maxBytes: number): Promise<string> {
  const signal = AbortSignal.timeout(timeout)
  try {
    const res = await globalThis.fetch(url, { signal })
    if (!res.ok) {
      res.body?.cancel().catch(() => {})
      throw new DogApiError(\`GET \${url.href} answered HTTP \${res.status}\`, \`HTTP \${res.status}\`, res.status)
    }
    const text = await res.text()
    if (text.length > maxBytes) throw new DogApiError(\`GET \${url.href} is too large\`, "too large")
    return text
  } catch (error) {
    if (error instanceof DogApiError) throw error
    if (signal.aborted) throw new DogApiError(\`GET \${url.href} did not answer in time\`, "timeout")
    throw new DogApiError(\`GET \${url.href} failed: \${String(error)}\`, "network")
  }
}

`

export const variants: Record<string, Variant> = {
  // The site itself, built the same way as its twins: a build in the site's own folder can differ
  // (gatsby develop's leftovers in .cache), and measured slower than a fresh copy.
  site: {
    name: "site",
    what: "the site as it is",
    patch() {},
  },
  guide: {
    name: "guide",
    what: "the guide's page as written (tools/lab/guide-page.js) in place of src/pages/ssr.tsx",
    patch(site) {
      rmSync(path.join(site, "src/pages/ssr.tsx"))
      cpSync(path.join(import.meta.dirname, "guide-page.js"), path.join(site, "src/pages/ssr.js"))
    },
  },
  "no-head": {
    name: "no-head",
    what: "the site, without /ssr/'s Head export",
    patch(site) {
      edit(path.join(site, "src/pages/ssr.tsx"), /export const Head[\s\S]*?\n\)\n/, "")
    },
  },
  "head-in-gatsby-ssr": {
    name: "head-in-gatsby-ssr",
    what: "the site, with /ssr/'s title and description from gatsby-ssr's onRenderBody, not a Head export",
    patch(site) {
      edit(path.join(site, "src/pages/ssr.tsx"), /export const Head[\s\S]*?\n\)\n/, "")
      const ssrApi = path.join(site, "gatsby-ssr.tsx")
      edit(
        ssrApi,
        /\(\{ setHtmlAttributes, setHeadComponents \}\)/,
        "({ pathname, setHtmlAttributes, setHeadComponents })",
      )
      edit(
        ssrApi,
        /setHeadComponents\(\[(<link key="icon"[^\]]*)\]\)/,
        `setHeadComponents([$1, ...(pathname === "/ssr/" ? [<Seo key="seo" title="SSR Page with Dogs" description="A random dog, rendered on the server at every request." />] : [])])`,
      )
      edit(ssrApi, /^/, `import { Seo } from "./src/components/seo"\n`)
    },
  },
  fetch: {
    name: "fetch",
    what: "the site, with fetch and AbortSignal.timeout in place of node:http",
    patch(site) {
      edit(
        path.join(site, "src/dog-api.ts"),
        /\/\/ The answer's body as text[\s\S]*?(?=async function getJsonOnce)/,
        FETCH_GET_TEXT,
      )
    },
  },
  "no-links": {
    name: "no-links",
    what: "the site, with plain <a> in place of Gatsby's <Link> on /ssr/",
    patch(site) {
      for (const file of ["src/pages/ssr.tsx", "src/components/another-dog-link.tsx"]) {
        edit(path.join(site, file), /<Link to=/g, "<a href=")
        edit(path.join(site, file), /<\/Link>/g, "</a>")
      }
    },
  },
  // The React the site moved from (see docs/benchmarks.md, "React 18 against React 19").
  "react-18": {
    name: "react-18",
    what: "the site on React 18.3 in place of React 19",
    patch(site) {
      installReact(site, "18.3.1")
    },
  },
  "no-circuit": {
    name: "no-circuit",
    what: "the site, without the circuit breaker",
    patch(site) {
      edit(
        path.join(site, "src/dog-api.ts"),
        /circuit\.run\(\(\) => getJsonOnce\(url, maxBytes\)\)/,
        "getJsonOnce(url, maxBytes)",
      )
    },
  },
}

// The site's own install with React and React DOM (and React DOM's scheduler) at another version, for
// the twin that holds the site against the React it moved from. Gatsby's webpack resolves react from
// where gatsby itself is installed, so a symlink to the site's node_modules would bring the site's React
// back: the twin gets a node_modules of its own, hard links to the site's files (seconds, no space; Linux's
// cp -al), with its webpack caches left out and the three packages swapped for the registry's.
function installReact(site: string, version: string): void {
  const modules = path.join(site, "node_modules")
  unlinkSync(modules) // the link to the site's node_modules that buildVariant made
  run("cp", ["-al", path.join(root, "node_modules"), modules])
  rmSync(path.join(modules, ".cache"), { recursive: true, force: true })
  // Workspace and file: packages are relative links (../packages/…): point them at the site's.
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue
    const link = path.join(modules, entry.name)
    const target = path.resolve(path.join(root, "node_modules"), readlinkSync(link))
    rmSync(link)
    symlinkSync(target, link)
  }
  const packs = mkdtempSync(path.join(os.tmpdir(), "lab-react-"))
  try {
    const reactDom = `react-dom@${version}`
    const scheduler = JSON.parse(run("npm", ["view", reactDom, "dependencies.scheduler", "--json"]))
    for (const spec of [`react@${version}`, reactDom, `scheduler@${scheduler}`]) {
      const [{ name, filename }] = JSON.parse(
        run("npm", ["pack", spec, "--json", "--pack-destination", packs]),
      ) as Array<{ name: string; filename: string }>
      rmSync(path.join(modules, name), { recursive: true, force: true })
      mkdirSync(path.join(modules, name))
      run("tar", ["-xzf", path.join(packs, filename), "-C", path.join(modules, name), "--strip-components=1"])
    }
  } finally {
    rmSync(packs, { recursive: true, force: true })
  }
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" })
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stderr}`)
  return result.stdout
}

const SITE_FILES = ["src", "static", "package.json", "tsconfig.json"]

// The variant's folder, built from the site as it is now.
export function buildVariant(variant: Variant): string {
  const site = path.join(import.meta.dirname, ".builds", variant.name)
  rmSync(site, { recursive: true, force: true })
  for (const file of [...SITE_FILES, ...optionalFiles()]) {
    cpSync(path.join(root, file), path.join(site, file), { recursive: true })
  }
  symlinkSync(path.join(root, "node_modules"), path.join(site, "node_modules"))
  variant.patch(site)
  console.log(`Building ${variant.name}: ${variant.what}…`)
  buildSite(site)
  return site
}

// Gatsby's files that the site has.
function optionalFiles(): string[] {
  return ["gatsby-config.ts", "gatsby-node.ts", "gatsby-ssr.tsx", "gatsby-browser.ts"].filter((file) =>
    existsSync(path.join(root, file)),
  )
}
