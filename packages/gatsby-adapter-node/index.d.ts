import type { AdapterInit } from "gatsby"

/** The adapter, for gatsby-config's `adapter`: `adapter: nodeAdapter()`. It takes no options. */
declare const nodeAdapter: AdapterInit
export = nodeAdapter
