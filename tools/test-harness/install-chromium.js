#!/usr/bin/env node
// `install-chromium`, which `npm run test:e2e` runs before Playwright: install-chromium.ts, through tsx.
require("tsx/cjs")
require("./install-chromium.ts")
