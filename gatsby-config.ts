import type { GatsbyConfig } from "gatsby"
import { siteMetadata } from "./src/site-metadata"

const config: GatsbyConfig = {
  siteMetadata,
  // Generates TypeScript types for GraphQL queries; this site has none, so it stays off.
  graphqlTypegen: false,
  plugins: [],
}

export default config
