import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import path from "node:path"
import { buildSite } from "test-harness"
import { root } from "./site"

// A generated Gatsby 5 site of many pages, as a blog's archive or a shop's catalogue has them, built
// with gatsby-adapter-node in lab/.builds/big-<pages>/ with the repository's Gatsby: `pages` static
// pages of about 3 KB of HTML each (/posts/<n>/), a fifth as many deferred ones (DSG, /archive/<n>/),
// and one page with getServerData (/ssr/). Built once per size: a build of 12,000 pages takes minutes.

// A page as a template makes it, from its context (no GraphQL, so that the build is the pages').
const TEMPLATE = `import * as React from "react"
export default function Post({ pageContext: { n, kind } }) {
  return (
    <main>
      <h1>{kind} {n}</h1>
      {Array.from({ length: 12 }, (_, i) => (
        <p key={i}>Paragraph {i} of {kind.toLowerCase()} {n}: a dog, a walk, a stick, and the long way home.</p>
      ))}
      <a href="/">Home</a>
    </main>
  )
}
export const Head = ({ pageContext: { n, kind } }) => <title>{kind} {n}</title>
`

const SSR_PAGE = `import * as React from "react"
export default function Ssr({ serverData }) {
  return <h1>Rendered at {serverData.at}</h1>
}
export async function getServerData() {
  return { props: { at: new Date().toISOString() } }
}
`

const NOT_FOUND = `import * as React from "react"
export default function NotFound() {
  return <h1>Not found</h1>
}
`

const INDEX = `import * as React from "react"
export default function Index() {
  return <h1>A big site</h1>
}
`

function gatsbyNode(pages: number): string {
  return `const path = require("node:path")
exports.createPages = ({ actions: { createPage } }) => {
  const component = path.resolve("src/templates/post.js")
  for (let n = 0; n < ${pages}; n++) createPage({ path: "/posts/" + n + "/", component, context: { n, kind: "Post" } })
  for (let n = 0; n < ${dsgPages(pages)}; n++)
    createPage({ path: "/archive/" + n + "/", component, context: { n, kind: "Archive" }, defer: true })
}
`
}

// The deferred pages beside `pages` static ones: a fifth as many, as the site had.
export const dsgPages = (pages: number): number => Math.round(pages / 5)

// The built site's folder; built now unless a build of that size is there already.
export function bigSite(pages: number): string {
  const site = path.join(import.meta.dirname, ".builds", `big-${pages}`)
  const done = path.join(site, ".cache/node-server/routes.json")
  if (existsSync(done) && readFileSync(path.join(site, "gatsby-node.js"), "utf8") === gatsbyNode(pages))
    return site
  rmSync(site, { recursive: true, force: true })
  const files: Record<string, string> = {
    "package.json": JSON.stringify({
      private: true,
      dependencies: { gatsby: "*", react: "*", "react-dom": "*", "gatsby-adapter-node": "*" },
    }),
    "gatsby-config.js": `module.exports = { adapter: require("gatsby-adapter-node")(), trailingSlash: "always" }\n`,
    "gatsby-node.js": gatsbyNode(pages),
    "src/templates/post.js": TEMPLATE,
    "src/pages/ssr.js": SSR_PAGE,
    "src/pages/404.js": NOT_FOUND,
    "src/pages/index.js": INDEX,
  }
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(site, file)), { recursive: true })
    writeFileSync(path.join(site, file), text)
  }
  symlinkSync(path.join(root, "node_modules"), path.join(site, "node_modules"))
  console.log(`Building a site of ${pages} pages and ${dsgPages(pages)} deferred ones…`)
  const started = Date.now()
  buildSite(site)
  console.log(`Built in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  return site
}
