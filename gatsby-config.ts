import type { GatsbyConfig } from "gatsby"
import netlifyAdapter from "gatsby-adapter-netlify"
import { siteMetadata } from "./src/site-metadata"

const config: GatsbyConfig = {
  siteMetadata,
  // Generates TypeScript types for GraphQL queries; this site has none, so it stays off.
  graphqlTypegen: false,
  plugins: [],
  // On Netlify, the SSR pages run as a serverless function. The adapter only adds its output to the
  // build (in .netlify/), so gatsby build and gatsby serve work as before.
  adapter: netlifyAdapter({ excludeDatastoreFromEngineFunction: true }),
}

export default config
