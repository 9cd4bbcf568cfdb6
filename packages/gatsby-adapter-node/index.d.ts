import type { AdapterInit } from "gatsby"

/**
 * The adapter, for gatsby-config's `adapter`: `adapter: nodeAdapter()`. Its one option, `imageCDN`:
 * `"build"` (by default: Gatsby makes a static page's remote images at build time, and the server those of
 * server-rendered and deferred pages at request time) or `"request"` (the server makes every one).
 */
declare const nodeAdapter: AdapterInit<{ imageCDN?: "build" | "request" }>
export = nodeAdapter
