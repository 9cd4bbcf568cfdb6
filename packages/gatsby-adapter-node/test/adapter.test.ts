import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import os from "node:os"
import path from "node:path"
import type { IAdapter, RemoteFileAllowedUrls, Reporter, RoutesManifest } from "gatsby"
import nodeAdapter from ".."

// The adapter at the end of gatsby build, with the manifest Gatsby would hand it.
function adapt(
  routesManifest: RoutesManifest,
  panic: (message: string) => void = jest.fn(),
  remoteFileAllowedUrls: RemoteFileAllowedUrls = [],
) {
  const adapter: IAdapter = nodeAdapter()
  return adapter.adapt({
    routesManifest,
    functionsManifest: [],
    headerRoutes: [],
    trailingSlash: "always",
    pathPrefix: "",
    remoteFileAllowedUrls,
    reporter: { panic, info: jest.fn(), warn: jest.fn() } as unknown as Reporter,
  })
}

test("stops the build, saying which, for a redirect condition the server cannot check", async () => {
  const panic = jest.fn((message: string) => {
    throw new Error(message)
  })
  const routesManifest = [
    {
      type: "redirect",
      path: "/members/",
      toPath: "/login/",
      status: 302,
      headers: [],
      conditions: { role: ["admin"] },
    },
  ] as unknown as RoutesManifest

  await expect(async () => adapt(routesManifest, panic)).rejects.toThrow(
    "gatsby-adapter-node: the Node server can check the redirect conditions country and language, not those of these redirects: /members/ (role).",
  )
})

test("lists no route for the brotli and gzip forms that an earlier build left beside a file", async () => {
  const site = mkdtempSync(path.join(os.tmpdir(), "adapted-"))
  mkdirSync(path.join(site, "public"))
  writeFileSync(path.join(site, "public/index.html"), "<h1>Dogs</h1>")
  writeFileSync(path.join(site, "public/data.csv.gz"), "a download of the site's own")
  const file = (name: string) => ({
    type: "static",
    path: `/${name}`,
    filePath: `public/${name}`,
    headers: [],
  })
  const routesManifest = [
    file("index.html"),
    file("index.html.br"),
    file("index.html.gz"),
    file("data.csv.gz"),
  ] as unknown as RoutesManifest
  const cwd = process.cwd()
  process.chdir(site)
  try {
    await adapt(routesManifest)
    const { routes, plain } = JSON.parse(readFileSync(".cache/node-server/routes.json", "utf8"))

    // Each a plain route, a line of a letter and its path (src/routes.js), or a route.
    const paths = [
      ...plain.split("\n").map((line: string) => line.split("\t")[1]),
      ...routes.map((route: { path: string }) => route.path),
    ]
    expect(paths.sort()).toEqual(["/data.csv.gz", "/index.html"])
  } finally {
    process.chdir(cwd)
    rmSync(site, { recursive: true, force: true })
  }
}, 60_000)

test("writes the remote addresses the build allows into the routes, for the server's images", async () => {
  const site = mkdtempSync(path.join(os.tmpdir(), "adapted-"))
  mkdirSync(path.join(site, "public"))
  writeFileSync(path.join(site, "public/index.html"), "<h1>Dogs</h1>")
  const routesManifest = [
    { type: "static", path: "/", filePath: "public/index.html", headers: [] },
  ] as unknown as RoutesManifest
  const cwd = process.cwd()
  process.chdir(site)
  try {
    await adapt(routesManifest, jest.fn(), [
      { urlPattern: "https://images.ctfassets.net/*", regexSource: "^https://images\\.ctfassets\\.net/.*$" },
    ])

    const { remoteFileAllowedUrls } = JSON.parse(readFileSync(".cache/node-server/routes.json", "utf8"))
    expect(remoteFileAllowedUrls).toEqual(["https://images.ctfassets.net/*"])
  } finally {
    process.chdir(cwd)
    rmSync(site, { recursive: true, force: true })
  }
}, 60_000)

test("leaves a static page's remote images to gatsby build by default, and all of them to the server with imageCDN: request", () => {
  const config = (adapter: IAdapter) => adapter.config?.({ reporter: {} as Reporter })

  expect(config(nodeAdapter())).not.toHaveProperty("imageCDNUrlGeneratorModulePath")
  expect(config(nodeAdapter({ imageCDN: "request" }))).toMatchObject({
    imageCDNUrlGeneratorModulePath: require.resolve("../src/image-urls"),
    fileCDNUrlGeneratorModulePath: require.resolve("../src/image-urls"),
  })
})

test("gives Gatsby a generator of image and file addresses that works where Gatsby copies it alone", () => {
  // As gatsby build does with an adapter's generators: the file, copied into the engine's folder.
  const engine = mkdtempSync(path.join(os.tmpdir(), "engine-"))
  try {
    const copy = path.join(engine, "image-cdn-url-generator.js")
    copyFileSync(require.resolve("../src/image-urls"), copy)
    const generate = createRequire(__filename)(copy).default
    const source = {
      url: "https://images.example/dog.jpg",
      filename: "dog.jpg",
      mimeType: "image/jpeg",
      internal: { contentDigest: "0".repeat(32) },
    }

    expect(generate(source, { width: 100, format: "webp", quality: 75 }, "/prefix")).toMatch(
      /^\/prefix\/_gatsby\/image\/[0-9a-f]{32}\/[0-9a-f]{32}\/dog\.webp\?u=/,
    )
    expect(generate(source, "/prefix")).toMatch(/^\/prefix\/_gatsby\/file\/[0-9a-f]{32}\/dog\.jpg\?u=/)
  } finally {
    rmSync(engine, { recursive: true, force: true })
  }
})
