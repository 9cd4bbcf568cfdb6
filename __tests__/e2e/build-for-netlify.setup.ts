import { statSync } from "node:fs"
import path from "node:path"
import { expect, test } from "@playwright/test"
import { buildSite } from "test-harness"
import { developCopy } from "./fixtures"

// `gatsby build` with NETLIFY=true, as Netlify's own builds run it, where gatsby develop ran (the copy
// of the built site) and with no clean first: the build that the Netlify function's tests call, and that
// tests a build on top of develop's files (gatsby-commands.spec.ts) with gatsby serve.
test("gatsby build for Netlify, on top of what gatsby develop left", () => {
  test.setTimeout(300_000)
  // gatsby develop wrote the page-data of /ssr/ when the develop project asked for it, after the last
  // build wrote its engine: this build starts from develop's files.
  const written = (file: string) => statSync(path.join(developCopy, file)).mtimeMs
  expect(written("public/page-data/ssr/page-data.json")).toBeGreaterThan(written(".cache/page-ssr/index.js"))

  buildSite(developCopy, { NETLIFY: "true" })
})
