import { spawnSync } from "node:child_process"
import path from "node:path"

// What `npm publish` would send: the code that runs, its types, README and LICENSE; no tests or fixtures.

test("the published package holds the code that runs, its types, README and LICENSE, and nothing else", () => {
  const pack = spawnSync("npm", ["pack", "--dry-run", "--json"], {
    cwd: path.join(__dirname, ".."),
    encoding: "utf8",
  })
  const [{ files }] = JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>
  const paths = files.map((file) => file.path)

  expect(
    paths.filter((file) => !/^(src\/[\w-]+\.js|index\.js|index\.d\.ts|start\.js)$/.test(file)).sort(),
  ).toEqual(["LICENSE", "README.md", "package.json"])
  expect(paths).toEqual(expect.arrayContaining(["index.js", "index.d.ts", "start.js", "src/server.js"]))
})
