import { test } from "@playwright/test"
import { buildSite } from "test-harness"
import { root } from "./fixtures"

// `gatsby build`, with no clean first, before anything else: the build that gatsby serve and the Node
// server (`npm start`) serve, side by side (see playwright.config.ts). The Node server may fetch the
// stand-in API's pictures, on whichever port a test's stand-in has, to resize them (src/dog-picture.ts).
test("gatsby build", () => {
  test.setTimeout(300_000)
  buildSite(root, { DOG_IMAGE_URLS: "https://images.dog.ceo/breeds/*,http://127.0.0.1:*/images/breeds/*" })
})
