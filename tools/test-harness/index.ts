import type { TestInfo } from "@playwright/test"

// The browser tests' shared harness (see README.md).
export { browserUse, CHROMIUM_FLAGS, findChromium } from "./chromium"
export { copyCheckout } from "./checkout"
export { buildSite, startSite, usesNodeAdapter, type SiteMode } from "./gatsby"
export { freePort, startServer, type RunningServer } from "./processes"
export { startRedis, type RunningRedis } from "./redis"

// The body of a test fixture: what a server printed during a test that failed (why a page had no dog,
// say), attached to the test's report.
export async function attachOutputOnFailure(
  server: { output(): string },
  runTest: () => Promise<void>,
  testInfo: TestInfo,
): Promise<void> {
  const before = server.output().length
  await runTest()
  if (testInfo.status !== testInfo.expectedStatus) {
    await testInfo.attach("server output", { body: server.output().slice(before) || "(nothing)" })
  }
}
