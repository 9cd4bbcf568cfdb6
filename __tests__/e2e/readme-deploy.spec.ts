import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { expect, test as base } from "@playwright/test"
import { copyCheckout, startServer } from "test-harness"
import { startStandInApi, type StandInApi } from "../../tools/stand-in-api/server"

// The README's deploy section, followed as written in a fresh copy of the repository: npm ci, gatsby
// build and the server, as a Node host runs them (about two minutes). `npm run test:deploy` runs it
// (CI does, after `npm test`, which leaves it out); it needs no build of this folder and no browser.

const root = path.resolve(__dirname, "../..")

// A copy of the repository as a clone has it (git's files, none of its ignored ones): where the
// README's commands run, away from this folder's own install and build.
const test = base.extend<{ clone: string; api: StandInApi }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
  clone: async ({}, use) => {
    const clone = mkdtempSync(path.join(os.tmpdir(), "gatsby-ssr-dogs-clone-"))
    copyCheckout(root, clone)
    try {
      await use(clone)
    } finally {
      rmSync(clone, { recursive: true, force: true })
    }
  },
  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
  api: async ({}, use) => {
    const api = await startStandInApi()
    await use(api)
    await api.close()
  },
})

// The environment a person has in a shell: not the npm_* settings of the `npm run` that runs this.
const shellEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))

// The first ```sh block after `marker` in a README.
function shellBlock(readme: string, marker: string): string {
  const text = readFileSync(path.join(root, readme), "utf8")
  const block = /```sh\n([\s\S]*?)```/.exec(text.slice(text.indexOf(marker)))
  if (text.indexOf(marker) === -1 || !block) throw new Error(`${readme} has no sh block after "${marker}"`)
  return block[1]
}

test("the root README's commands for any Node host install, build and serve the site", async ({
  clone,
  api,
}) => {
  test.setTimeout(900_000)
  const block = shellBlock("README.md", "**Any Node host**")
  expect(block).toContain("PORT=8080")

  const server = await startServer("bash", ["-e", "-c", block.replace("PORT=8080", "PORT=$PORT")], {
    cwd: clone,
    env: { ...shellEnv, DOG_API_URL: api.apiUrl },
    cleanEnv: true,
    ready: (url) => `${url}/healthz`,
    deadlineMs: 840_000,
  })
  try {
    expect((await fetch(`${server.url}/ssr/`)).status).toBe(200)
  } finally {
    await server.stop()
  }
})
