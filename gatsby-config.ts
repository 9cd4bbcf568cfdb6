import type { GatsbyConfig } from "gatsby"
import netlifyAdapter from "gatsby-adapter-netlify"
import nodeAdapter from "gatsby-adapter-node"
import { siteMetadata } from "./src/site-metadata"

// Netlify sets NETLIFY=true in its builds: there the SSR pages run as a Netlify function. Anywhere else,
// gatsby-adapter-node writes the standalone server that `npm start` runs.
const config: GatsbyConfig = {
  siteMetadata,
  // Generates TypeScript types for GraphQL queries; this site has none, so it stays off.
  graphqlTypegen: false,
  plugins: [],
  adapter: process.env.NETLIFY ? netlifyAdapter({ excludeDatastoreFromEngineFunction: true }) : nodeAdapter(),
}

export default config
