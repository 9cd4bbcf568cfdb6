import { defineConfig } from "@playwright/test"

// `npm run test:deploy`: the README's deploy commands in a fresh copy of the repository
// (readme-deploy.spec.ts), apart from `npm test` because they take two minutes of npm ci and gatsby build.
export default defineConfig({
  testDir: ".",
  testMatch: "readme-deploy.spec.ts",
  reporter: "list",
  outputDir: "../../test-results/readme-deploy",
})
