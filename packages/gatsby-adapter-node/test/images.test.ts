import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import os from "node:os"
import path from "node:path"
import { crc32, deflateSync } from "node:zlib"
import sharp from "sharp"
import type { FastifyInstance } from "fastify"
import { createSourceFetcher } from "../src/image-source"
import { createTransformer } from "../src/image-transform"
import { digest, generateFileUrl, generateImageUrl } from "../src/image-urls"
import type { ImageSettings } from "../src/images"
import { createMetrics, type Metrics } from "../src/metrics"
import { createServer } from "../src/server"

// Gatsby's Image CDN and File CDN on the server (src/images.js), against a host of this test's standing
// in for a CMS's images: the addresses Gatsby writes, answered in the sizes and formats asked for, each
// made once; and every hostile input an image proxy gets, refused before it costs anything.

jest.setTimeout(30_000)

let root: string
let host: Server
let hostUrl: string
// The host's requests, by path.
let asked: Record<string, number>
const files: Record<
  string,
  { type: string; body: Buffer } | { redirect: string } | { bytes: number; declared: boolean }
> = {}

const PHOTO = { width: 2000, height: 1500 }

// A PNG whose header says 30,000 x 30,000 pixels, in a few hundred bytes: what a decoder would need
// 900 million pixels' memory for.
function pngBomb(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type), data])))
    return Buffer.concat([length, Buffer.from(type), data, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(30_000, 0)
  header.writeUInt32BE(30_000, 4)
  header.set([8, 0, 0, 0, 0], 8)
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.alloc(30_001))),
    chunk("IEND", Buffer.alloc(0)),
  ])
}

beforeAll(async () => {
  const photo = await sharp({ create: { ...PHOTO, channels: 3, background: "#e8b808" } })
    .jpeg()
    .toBuffer()
  files["/photos/dog.jpg"] = { type: "image/jpeg", body: photo }
  files["/photos/truncated.jpg"] = { type: "image/jpeg", body: photo.subarray(0, photo.length / 2) }
  files["/photos/bomb.png"] = { type: "image/png", body: pngBomb() }
  // Three frames of 40 x 30, red, green and blue.
  const frames = Buffer.alloc(40 * 90 * 3)
  for (let pixel = 0; pixel < 40 * 90; pixel++) frames[pixel * 3 + Math.floor(pixel / 40 / 30)] = 255
  files["/photos/animated.gif"] = {
    type: "image/gif",
    body: await sharp(frames, { raw: { width: 40, height: 90, channels: 3, pageHeight: 30 } })
      .gif({ loop: 0, delay: [100, 100, 100] })
      .toBuffer(),
  }
  files["/photos/script.svg"] = {
    type: "image/svg+xml",
    body: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
  }
  // An SVG behind a UTF-8 byte-order mark, which libvips reads as an SVG all the same.
  files["/photos/marked.svg"] = {
    type: "image/svg+xml",
    body: Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`,
      ),
    ]),
  }
  // One says it is 60 MB and sends nothing after: refused on its word, or never answered.
  files["/photos/huge.jpg"] = { bytes: 60 * 1024 * 1024, declared: true }
  files["/photos/huge-chunked.jpg"] = { bytes: 60 * 1024 * 1024, declared: false }
  host = createHttpServer((req, res) => {
    const url = new URL(req.url!, "http://host")
    asked[url.pathname] = (asked[url.pathname] ?? 0) + 1
    const file = files[url.pathname]
    if (!file) return void res.writeHead(404).end()
    if ("redirect" in file) return void res.writeHead(302, { location: file.redirect }).end()
    if ("bytes" in file && file.declared) {
      return void res
        .writeHead(200, { "content-type": "image/jpeg", "content-length": file.bytes })
        .flushHeaders()
    }
    if ("bytes" in file) {
      res.writeHead(200, { "content-type": "image/jpeg" })
      const piece = Buffer.alloc(1024 * 1024)
      let sent = 0
      const more = () => {
        while (sent < file.bytes && !res.destroyed) {
          sent += piece.length
          if (!res.write(piece)) return void res.once("drain", more)
        }
        res.end()
      }
      return more()
    }
    res.writeHead(200, { "content-type": file.type }).end(file.body)
  })
  await new Promise<void>((resolve) => host.listen(0, "127.0.0.1", resolve))
  hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`
  files["/photos/to-elsewhere.jpg"] = { redirect: "http://localhost:1/photos/dog.jpg" }
  files["/photos/to-dog.jpg"] = { redirect: `${hostUrl}/photos/dog.jpg` }
  files["/photos/round.jpg"] = { redirect: `${hostUrl}/photos/round.jpg` }

  root = mkdtempSync(path.join(os.tmpdir(), "node-adapter-images-"))
  const build: Record<string, string> = {
    "public/index.html": "<h1>Home</h1>",
    "public/page-data/app-data.json": "{}",
    ".cache/node-server/routes.json": JSON.stringify({
      trailingSlash: "always",
      routes: [{ type: "static", path: "/", filePath: "public/index.html", headers: [] }],
      functions: [],
      // gatsby-config's headers for every path, which images get as pages and files do.
      headerRoutes: [{ path: "/*", headers: [{ key: "x-frame-options", value: "DENY" }] }],
      remoteFileAllowedUrls: [`${hostUrl}/photos/*`],
    }),
  }
  for (const [file, text] of Object.entries(build)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
})
afterAll(() => {
  host.closeAllConnections()
  host.close()
  rmSync(root, { recursive: true, force: true })
})

let app: FastifyInstance
const started: FastifyInstance[] = []
async function server(images: Partial<ImageSettings> = {}, metrics?: Metrics) {
  const created = await createServer({
    root,
    log: () => {},
    metrics,
    images: {
      memoryBytes: 8 * 1024 * 1024,
      diskBytes: 0,
      dir: path.join(root, "image-cache"),
      maxSourceBytes: 25 * 1024 * 1024,
      maxSourcePixels: 50_000_000,
      transformsAtOnce: 1,
      ...images,
    },
  })
  started.push(created)
  return created
}
beforeEach(async () => {
  asked = {}
  app = await server()
})
afterEach(async () => {
  await Promise.all(started.splice(0).map((one) => one.close()))
})

// An image's address as Gatsby's resolvers write it, for a source on the host.
function imageAt(
  sourcePath: string,
  args: { width?: number; height?: number; format?: string; quality?: number; cropFocus?: string } = {},
): string {
  return generateImageUrl(
    {
      url: `${hostUrl}${sourcePath}`,
      filename: path.basename(sourcePath),
      mimeType: "image/jpeg",
      internal: { contentDigest: digest(sourcePath) },
    },
    { width: 320, format: "webp", quality: 75, ...args },
  )
}

// An address with arguments as written, which Gatsby's generator would not write.
function imageWithArgs(sourcePath: string, args: string): string {
  const url = `${hostUrl}${sourcePath}`
  const query = new URLSearchParams({ u: url, a: args, cd: digest(sourcePath) })
  return `/_gatsby/image/${digest(url)}/${digest(args)}/dog.webp?${query}`
}

test("makes an image of the size and format its address asks for", async () => {
  const res = await app.inject(imageAt("/photos/dog.jpg", { width: 320, format: "webp" }))

  expect(res.statusCode).toBe(200)
  expect(res.headers["content-type"]).toBe("image/webp")
  const { width, height, format } = await sharp(res.rawPayload).metadata()
  expect({ width, height, format }).toEqual({ width: 320, height: 240, format: "webp" })
})

test.each([
  ["jpg", "jpeg"],
  ["png", "png"],
  ["avif", "heif"],
])("makes a %s", async (format, read) => {
  const res = await app.inject(imageAt("/photos/dog.jpg", { width: 100, format }))

  expect(res.statusCode).toBe(200)
  expect((await sharp(res.rawPayload).metadata()).format).toBe(read)
})

test("crops to the width and height asked for, at the focus the address names", async () => {
  const res = await app.inject(imageAt("/photos/dog.jpg", { width: 100, height: 100, cropFocus: "top" }))

  const { width, height } = await sharp(res.rawPayload).metadata()
  expect({ width, height }).toEqual({ width: 100, height: 100 })
})

test("sends an image with immutable caching, nosniff and a sandboxing CSP", async () => {
  const res = await app.inject(imageAt("/photos/dog.jpg"))

  expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
  expect(res.headers["x-content-type-options"]).toBe("nosniff")
  expect(res.headers["content-security-policy"]).toBe("script-src 'none'; frame-src 'none'; sandbox;")
})

test("fetches a source once and makes each image once, the second answer from memory", async () => {
  const metrics = createMetrics()
  try {
    const counted = await server({}, metrics)
    const address = imageAt("/photos/dog.jpg", { width: 200 })
    await Promise.all([
      counted.inject(address),
      counted.inject(address),
      counted.inject(imageAt("/photos/dog.jpg", { width: 201 })),
    ])

    const again = await counted.inject(address)

    expect(again.headers["server-timing"]).toBe('image;desc="memory"')
    expect(asked["/photos/dog.jpg"]).toBe(1)
    expect(await metrics.registry.metrics()).toContain('image_work_total{work="transform",result="ok"} 2')
  } finally {
    metrics.stop()
  }
})

test("answers 304 to a client that has the image", async () => {
  const first = await app.inject(imageAt("/photos/dog.jpg"))

  const again = await app.inject({
    url: imageAt("/photos/dog.jpg"),
    headers: { "if-none-match": first.headers.etag },
  })

  expect(again.statusCode).toBe(304)
})

test("sends gatsby-config's headers for every path with an image, its 304 and a refusal", async () => {
  const first = await app.inject(imageAt("/photos/dog.jpg"))
  const again = await app.inject({
    url: imageAt("/photos/dog.jpg"),
    headers: { "if-none-match": first.headers.etag },
  })
  const refused = await app.inject(imageWithArgs("/photos/dog.jpg", "w=0&fm=webp&q=75"))

  for (const res of [first, again, refused]) expect(res.headers["x-frame-options"]).toBe("DENY")
  expect(again.headers["content-security-policy"]).toBe(first.headers["content-security-policy"])
})

test("finds on disk an image that another worker made after it looked there", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "node-adapter-image-disk-"))
  try {
    const [one, other] = await Promise.all([1, 2].map(() => server({ diskBytes: 64 * 1024 * 1024, dir })))
    await other.inject(imageAt("/photos/dog.jpg", { width: 160 }))
    await one.inject(imageAt("/photos/dog.jpg", { width: 170 }))

    const res = await other.inject(imageAt("/photos/dog.jpg", { width: 170 }))

    expect(res.headers["server-timing"]).toBe('image;desc="disk"')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("keeps images on disk, where a server started again finds them without fetching", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "node-adapter-image-disk-"))
  try {
    const first = await server({ diskBytes: 64 * 1024 * 1024, dir })
    await first.inject(imageAt("/photos/dog.jpg", { width: 150 }))
    await first.close()
    const restarted = await server({ diskBytes: 64 * 1024 * 1024, dir })

    const res = await restarted.inject(imageAt("/photos/dog.jpg", { width: 150 }))

    expect(res.headers["server-timing"]).toBe('image;desc="disk"')
    expect(asked["/photos/dog.jpg"]).toBe(1)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("answers the encrypted form of an address with the build's key", async () => {
  process.env.IMAGE_CDN_ENCRYPTION_SECRET_KEY = "ab".repeat(32)
  process.env.IMAGE_CDN_ENCRYPTION_IV = "cd".repeat(16)
  try {
    const address = imageAt("/photos/dog.jpg", { width: 90 })
    expect(address).toContain("eu=")

    expect((await app.inject(address)).statusCode).toBe(200)
  } finally {
    delete process.env.IMAGE_CDN_ENCRYPTION_SECRET_KEY
    delete process.env.IMAGE_CDN_ENCRYPTION_IV
  }
})

test("sends a file's bytes at its File CDN address, with a sandboxing CSP", async () => {
  const address = generateFileUrl({ url: `${hostUrl}/photos/script.svg`, filename: "script.svg" })

  const res = await app.inject(address)

  expect(res.statusCode).toBe(200)
  expect(res.headers["content-type"]).toBe("image/svg+xml")
  expect(res.headers["content-security-policy"]).toBe("script-src 'none'; frame-src 'none'; sandbox;")
  expect(res.headers["cache-control"]).toBe("public, max-age=86400")
})

describe("refuses, before fetching anything,", () => {
  test.each([
    ["a source the build does not allow", "http://localhost:1/photos/dog.jpg"],
    ["a URL that matches the allow-list only by its userinfo", () => `${hostUrl}@localhost:1/photos/dog.jpg`],
    [
      "credentials in the URL of an allowed source",
      () => hostUrl.replace("http://", "http://user:secret@") + "/photos/dog.jpg",
    ],
    ["a port other than the allow-list's", () => `${hostUrl.replace(/:\d+$/, ":1")}/photos/dog.jpg`],
    ["encoded dots that lead out of the allowed path", () => `${hostUrl}/photos/%2e%2e/secret.jpg`],
    ["an encoded slash that leads out of the allowed path", () => `${hostUrl}/photos%2F..%2Fsecret.jpg`],
    ["a scheme other than http or https", "file:///etc/passwd"],
  ])("%s (403)", async (_what, source) => {
    const url = typeof source === "function" ? source() : source
    const address = generateImageUrl(
      { url, filename: "x.jpg", mimeType: "image/jpeg", internal: { contentDigest: "0".repeat(32) } },
      { width: 100, format: "webp", quality: 75 },
    )

    const res = await app.inject(address)

    expect(res.statusCode).toBe(403)
    expect(asked).toEqual({})
  })

  test.each([
    "w=0&fm=webp&q=75",
    "w=-1&fm=webp&q=75",
    "w=1000000000&fm=webp&q=75",
    "w=NaN&fm=webp&q=75",
    "w=100&fm=tiff&q=75",
    "w=100&fm=webp&q=101",
  ])("arguments out of bounds: %s (400)", async (args) => {
    const res = await app.inject(imageWithArgs("/photos/dog.jpg", args))

    expect(res.statusCode).toBe(400)
    expect(asked).toEqual({})
  })

  test.each([
    [
      "an address whose digests are not its source's and arguments'",
      () => imageAt("/photos/dog.jpg").replace(/\/[0-9a-f]{32}\//, `/${"f".repeat(32)}/`),
    ],
    ["an address with no source", () => "/_gatsby/image/" + "a".repeat(32) + "/" + "b".repeat(32) + "/x.jpg"],
  ])("%s (400)", async (_what, address) => {
    expect((await app.inject(address())).statusCode).toBe(400)
    expect(asked).toEqual({})
  })
})

test("follows a redirect only to an address the build allows", async () => {
  expect((await app.inject(imageAt("/photos/to-dog.jpg"))).statusCode).toBe(200)

  const res = await app.inject(imageAt("/photos/to-elsewhere.jpg"))

  expect(res.statusCode).toBe(403)
  expect(res.body).toContain("http://localhost:1/photos/dog.jpg is not an address the build allows")
})

test("answers 502 for a source that redirects more than 3 times", async () => {
  const res = await app.inject(imageAt("/photos/round.jpg"))

  expect(res.statusCode).toBe(502)
  expect(res.body).toContain("redirected too often")
  expect(asked["/photos/round.jpg"]).toBe(4)
})

test("refuses a host the allow-list names by name when it resolves to a loopback or private address", async () => {
  const sources = createSourceFetcher({
    allowed: ["http://cms.example:*/*", `${hostUrl}/*`],
    timeoutMs: 1000,
    maxBytes: 1024,
    maxRedirects: 0,
    lookup: async () => [{ address: "127.0.0.1", family: 4 }],
  })

  await expect(
    sources.fetchSource(`http://cms.example:${new URL(hostUrl).port}/photos/dog.jpg`),
  ).rejects.toMatchObject({
    status: 403,
    reason: "private address",
  })
  expect(asked).toEqual({})
})

test("fetches from a loopback address that the allow-list names with any port", async () => {
  const sources = createSourceFetcher({
    allowed: ["http://127.0.0.1:*/photos/*"],
    timeoutMs: 1000,
    maxBytes: 1024 * 1024,
    maxRedirects: 0,
  })

  const source = await sources.fetchSource(`http://127.0.0.1:${new URL(hostUrl).port}/photos/dog.jpg`)

  expect(source.body.length).toBeGreaterThan(0)
  expect(asked["/photos/dog.jpg"]).toBe(1)
})

test.each([
  ["says how large it is, before its body", "/photos/huge.jpg"],
  ["does not say how large it is, reading no more than its bound", "/photos/huge-chunked.jpg"],
])("refuses a source of 60 MB that %s", async (_what, sourcePath) => {
  const res = await app.inject(imageAt(sourcePath))

  expect(res.statusCode).toBe(502)
  expect(res.body).toContain("is over 26214400 bytes")
})

test("refuses a PNG of 30,000 x 30,000 pixels in a few hundred bytes, without decoding it", async () => {
  const res = await app.inject(imageAt("/photos/bomb.png"))

  expect(res.statusCode).toBe(422)
  expect(res.body).toContain("the source is over 50000000 pixels")
})

test("answers 501, saying what to install, where the site has no sharp", async () => {
  const transformer = createTransformer({
    atOnce: 1,
    queue: 1,
    maxPixels: 1000,
    timeoutSeconds: 1,
    requireSharp: () => {
      throw new Error("Cannot find module 'sharp'")
    },
  })

  await expect(
    transformer.transform(Buffer.from("x"), new URLSearchParams("w=10&fm=webp")),
  ).rejects.toMatchObject({
    status: 501,
    message: "images need sharp in the site (npm install sharp): Cannot find module 'sharp'",
  })
})

test("makes images, keeping none on disk, where its folder cannot be made, and says so in its log", async () => {
  const lines: string[] = []
  const unwritable = await createServer({
    root,
    log: (line) => lines.push(line),
    images: {
      memoryBytes: 0,
      diskBytes: 64 * 1024 * 1024,
      // Under a file: no folder can be made there, whoever the server runs as.
      dir: path.join(root, "public/index.html/images"),
      maxSourceBytes: 25 * 1024 * 1024,
      maxSourcePixels: 50_000_000,
      transformsAtOnce: 1,
    },
  })
  started.push(unwritable)

  const res = await unwritable.inject(imageAt("/photos/dog.jpg", { width: 180 }))

  expect(res.statusCode).toBe(200)
  expect(lines.join("\n")).toContain("images are not kept on disk")
})

test("makes an animated GIF's first frame, at the size of a frame", async () => {
  const res = await app.inject(imageAt("/photos/animated.gif", { width: 20 }))

  const image = sharp(res.rawPayload)
  const { width, height, pages } = await image.metadata()
  expect({ width, height, pages: pages ?? 1 }).toEqual({ width: 20, height: 15, pages: 1 })
  const { r, g, b } = (await image.stats()).dominant
  expect({ red: r > 200, green: g > 200, blue: b > 200 }).toEqual({ red: true, green: false, blue: false })
})

test("never makes an image of an SVG", async () => {
  const res = await app.inject(imageAt("/photos/script.svg"))

  expect(res.statusCode).toBe(422)
  expect(res.body).toContain("an SVG is not made into another image")
})

test("never decodes an SVG that hides behind a byte-order mark", async () => {
  const res = await app.inject(imageAt("/photos/marked.svg"))

  expect(res.statusCode).toBe(422)
  expect(res.body).toContain("the source is not an image this server reads")
})

test("answers an error for a truncated JPEG, and serves on", async () => {
  const res = await app.inject(imageAt("/photos/truncated.jpg"))

  expect(res.statusCode).toBe(422)
  expect((await app.inject(imageAt("/photos/dog.jpg"))).statusCode).toBe(200)
})

test("makes no more than 64 sizes of one image: a thousand widths are refused past them", async () => {
  const statuses: number[] = []
  for (let width = 1; width <= 1000; width += 1) {
    statuses.push((await app.inject(imageAt("/photos/dog.jpg", { width }))).statusCode)
    if (statuses.at(-1) === 429) break
  }

  expect(statuses.filter((status) => status === 200)).toHaveLength(64)
  expect(statuses.at(-1)).toBe(429)
  expect(asked["/photos/dog.jpg"]).toBe(1)
})

test("counts an image asked for with another content digest as another of its 64 sizes", async () => {
  const statuses: number[] = []
  for (let n = 0; n < 100; n++) {
    const address = imageAt("/photos/dog.jpg", { width: 64 }).replace(
      /cd=[0-9a-f]{32}/,
      `cd=${digest(`v${n}`)}`,
    )
    statuses.push((await app.inject(address)).statusCode)
    if (statuses.at(-1) === 429) break
  }

  expect(statuses.filter((status) => status === 200)).toHaveLength(64)
  expect(statuses.at(-1)).toBe(429)
})

test("answers 503 with Retry-After past its queue of transforms, at once", async () => {
  const answers = await Promise.all(
    Array.from({ length: 40 }, (_, i) => app.inject(imageAt("/photos/dog.jpg", { width: 500 + i }))),
  )

  const busy = answers.filter(({ statusCode }) => statusCode === 503)
  expect(busy.length).toBeGreaterThan(0)
  expect(busy[0].headers["retry-after"]).toBe("10")
  expect(answers.filter(({ statusCode }) => statusCode === 200)).toHaveLength(40 - busy.length)
})
