/** @type {import('jest').Config} */
export default {
  // getServerData runs in Node; component tests ask for jest-fixed-jsdom in a docblock.
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  // *.spec.ts are Playwright's.
  testMatch: ["**/*.test.[jt]s?(x)"],
  setupFilesAfterEnv: ["<rootDir>/__tests__/jest.setup.ts"],
  transform: {
    "^.+\\.[cm]?[jt]sx?$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript", tsx: true }, transform: { react: { runtime: "automatic" } } },
        module: { type: "commonjs" },
      },
    ],
  },
  // msw 2.11+ depends on packages that ship only ES modules, which jest must transform.
  transformIgnorePatterns: ["/node_modules/(?!(rettime|until-async|@open-draft/deferred-promise)/)"],
}
