// The unit tests (*.test.ts); *.spec.ts are the fixture sites' Playwright suite.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  // The fixture sites and their builds.
  modulePathIgnorePatterns: ["<rootDir>/test/.apps/"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" } }, module: { type: "commonjs" } }],
  },
}
