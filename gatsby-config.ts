import { existsSync } from "node:fs"
import path from "node:path"
import type { AdapterInit, GatsbyConfig } from "gatsby"
import netlifyAdapter from "gatsby-adapter-netlify"
import { siteMetadata } from "./src/site-metadata"

// Netlify sets NETLIFY=true in its builds: there the SSR pages run as a Netlify function. Anywhere else,
// node-adapter/ writes the routes that `npm start` serves. That folder is optional: without it a build
// has no adapter, and `gatsby serve` serves it. (Loaded by path, so that Gatsby's bundler of this file
// does not need the folder to be there.)
const nodeAdapterPath = path.resolve("node-adapter")
const adapter = process.env.NETLIFY
  ? netlifyAdapter({ excludeDatastoreFromEngineFunction: true })
  : existsSync(nodeAdapterPath)
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- a path that may not be there
      (require(nodeAdapterPath) as AdapterInit)()
    : undefined

const config: GatsbyConfig = {
  siteMetadata,
  // Generates TypeScript types for GraphQL queries; this site has none, so it stays off.
  graphqlTypegen: false,
  plugins: [],
  adapter,
}

export default config
