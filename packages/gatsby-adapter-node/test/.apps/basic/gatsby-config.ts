import type { GatsbyConfig } from "gatsby"
import nodeAdapter from "gatsby-adapter-node"

// The configuration under test comes from the suite (../../sites.ts): TRAILING_SLASH, PATH_PREFIX, IMAGE_CDN.
const config: GatsbyConfig = {
  siteMetadata: { title: "Node adapter fixture" },
  trailingSlash: (process.env.TRAILING_SLASH || "always") as GatsbyConfig["trailingSlash"],
  pathPrefix: process.env.PATH_PREFIX || undefined,
  // IMAGE_CDN=request: every remote image made by the server at request time (the suite's "ignore").
  adapter: nodeAdapter({ imageCDN: process.env.IMAGE_CDN === "request" ? "request" : "build" }),
  plugins: ["gatsby-plugin-image"],
  // As in Gatsby's suite: one header for every path, and some for a kind of route, one of which an SSR
  // page's getServerData sets too (its own wins).
  headers: [
    { source: "/*", headers: [{ key: "x-custom-header", value: "for every path" }] },
    {
      source: "/routes/ssr/*",
      headers: [
        { key: "x-ssr-header", value: "from config" },
        { key: "x-ssr-header-overwrite", value: "config" },
      ],
    },
    { source: "/routes/dsg/*", headers: [{ key: "x-dsg-header", value: "from config" }] },
    { source: "/api/*", headers: [{ key: "x-function-header", value: "from config" }] },
  ],
}

export default config
