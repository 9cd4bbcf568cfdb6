import { test } from "@playwright/test"
import { buildSite } from "test-harness"
import { root } from "./fixtures"

// `gatsby build`, with no clean first, before anything else: the build that gatsby serve and the Node
// server (`npm start`) serve, side by side (see playwright.config.ts).
test("gatsby build", () => {
  test.setTimeout(300_000)
  buildSite(root)
})
