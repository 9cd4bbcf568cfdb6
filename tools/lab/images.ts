import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import path from "node:path"
import { generateImageUrl } from "gatsby-plugin-utils/polyfill-remote-file/utils/url-generator"
import { startServer, startSite, usesNodeAdapter, type RunningServer } from "test-harness"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { buildVariant, variants } from "./builds"
import { load, median } from "./load"
import { startLabServer, startUpstream } from "./upstream-process"

// `npm run bench -- --images`: Gatsby's Image CDN on the Node server (gatsby-adapter-node), one worker,
// with a remote host of its own (image-host.ts: a 2000 x 1500 JPEG at every /photo-<n>.jpg): the first
// make of an image 640 wide in WebP, AVIF and JPEG (a source of its own each time, fetched and made),
// against Next.js 15's image optimizer (`next start`'s /_next/image, an app of the lab's own with the
// same host allowed and AVIF on), in rounds taken in turns; an image made answered again, against a static file of the same bytes;
// /ssr/'s pace and the server's peak memory while 200 images are made, 16 at a time. The build is the
// site's, in the lab's copy, whose routes the lab gives the host's address as one the build allows,
// and a route for that file (what gatsby-node's addRemoteFileAllowedUrl and a file of public/ would).
// The addresses are Gatsby's own (its generator, gatsby-plugin-utils'), as a page's query writes them.

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8)
const ROUND_SECONDS = Number(process.env.BENCH_ROUND_SECONDS ?? 3)
const FORMATS = { webp: "image/webp", avif: "image/avif", jpg: "image/jpeg" } as const
const BURST = 200

// A Next.js app that only optimizes images (its /_next/image), from the host at hostUrl, built in the
// lab's .builds/next with the lab's own next.
async function startNext(hostUrl: string): Promise<RunningServer> {
  const app = path.join(import.meta.dirname, ".builds", "next")
  rmSync(app, { recursive: true, force: true })
  mkdirSync(path.join(app, "app"), { recursive: true })
  symlinkSync(path.join(import.meta.dirname, "node_modules"), path.join(app, "node_modules"))
  const { port } = new URL(hostUrl)
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ private: true }),
    "app/layout.js":
      "export default function Layout({ children }) { return <html><body>{children}</body></html> }",
    "app/page.js": "export default function Page() { return <h1>images</h1> }",
    "next.config.js": `module.exports = { images: { formats: ["image/avif", "image/webp"], remotePatterns: [{ protocol: "http", hostname: "127.0.0.1", port: "${port}" }] } }`,
  }
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(app, file), text)
  const next = path.join(app, "node_modules/next/dist/bin/next")
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }
  const build = spawnSync(process.execPath, [next, "build"], { cwd: app, env, encoding: "utf8" })
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}${build.stderr}`)
  return startServer(process.execPath, [next, "start", "-p", "$PORT", "-H", "127.0.0.1"], { cwd: app, env })
}

// What a browser that takes each format sends, for Next.js, which picks the format by it.
const ACCEPT = { webp: "image/webp,*/*", avif: "image/avif,image/webp,*/*", jpg: "image/jpeg,*/*" }

const kb = (pid: number, field: "VmRSS" | "VmHWM") =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1])

export async function benchImages(): Promise<void> {
  const site = buildVariant(variants.site)
  if (!usesNodeAdapter(site)) {
    console.log("The fork has no gatsby-adapter-node: no Image CDN to measure.")
    return
  }
  const host = await startLabServer("image-host.ts", {})
  const upstream = await startUpstream()
  const address = (n: number, format: keyof typeof FORMATS, quality = 75) =>
    generateImageUrl(
      {
        url: `${host.url}/photo-${n}.jpg`,
        filename: `photo-${n}.jpg`,
        mimeType: "image/jpeg",
        internal: { contentDigest: createHash("md5").update(String(n)).digest("hex") },
      },
      { width: 640, format, quality },
    )

  // The lab's copy of the build: the host allowed, and a file for the comparison.
  const routesFile = path.join(site, ".cache/node-server/routes.json")
  const routes = JSON.parse(readFileSync(routesFile, "utf8"))
  routes.remoteFileAllowedUrls = [`${host.url}/*`]
  routes.plain = `${routes.plain}\nf0\t/lab-image.webp`
  writeFileSync(routesFile, JSON.stringify(routes))

  const server = await startSite(site, "node", {
    env: { DOG_API_URL: upstream.apiUrl, WEB_CONCURRENCY: "1" },
  })
  const next = await startNext(host.url)
  try {
    const get = async (url: string) => {
      const res = await fetch(`${server.url}${url}`)
      const body = Buffer.from(await res.arrayBuffer())
      if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body}`)
      return body
    }
    const nextGet = async (n: number, format: keyof typeof FORMATS) => {
      const source = encodeURIComponent(`${host.url}/photo-${n}.jpg`)
      const res = await fetch(`${next.url}/_next/image?url=${source}&w=640&q=75`, {
        headers: { accept: ACCEPT[format] },
      })
      await res.arrayBuffer()
      if (res.status !== 200 || res.headers.get("content-type") !== FORMATS[format])
        throw new Error(`Next.js, ${format}: ${res.status} ${res.headers.get("content-type")}`)
    }
    const timed = async (make: () => Promise<unknown>) => {
      const started = performance.now()
      await make()
      return performance.now() - started
    }
    // The first make of each format, a source of its own each time, on each server in turns; and AVIF
    // asked for at the quality Next.js encodes when asked for 75 (it scales AVIF's by 50/80: 47), the
    // same work on both.
    const kinds = [
      ...(Object.keys(FORMATS) as Array<keyof typeof FORMATS>).map((format) => ({
        label: format,
        format,
        quality: 75,
      })),
      { label: "avif, both encoding quality 47 (Next.js's for 75)", format: "avif" as const, quality: 47 },
    ]
    let n = 0
    const firsts: Record<string, number[]> = {}
    const nextFirsts: Record<string, number[]> = {}
    await get(address(n++, "webp"))
    await nextGet(n++, "webp")
    for (let round = 0; round < ROUNDS; round++) {
      for (const { label, format, quality } of kinds) {
        const ours = { make: () => get(address(n++, format, quality)), into: firsts }
        const theirs = { make: () => nextGet(n++, format), into: nextFirsts }
        for (const { make, into } of round % 2 ? [theirs, ours] : [ours, theirs])
          (into[label] ??= []).push(await timed(make))
      }
    }

    // Again, from memory, against the same bytes as a file of public/, in turns.
    const made = address(1, "webp")
    writeFileSync(path.join(site, "public/lab-image.webp"), await get(made))
    const again: number[] = []
    const file: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      again.push(load(`${server.url}${made}`, ROUND_SECONDS).rps)
      file.push(load(`${server.url}/lab-image.webp`, ROUND_SECONDS).rps)
    }

    // /ssr/ at rest, then while 200 new images are made, 16 at a time by a process of their own.
    const idleSsr = load(`${server.url}/ssr/`, ROUND_SECONDS * 2).rps
    const restKb = kb(server.pid, "VmRSS")
    const burst = Array.from({ length: BURST }, (_, i) => address(10_000 + i, "webp"))
    const making = spawn(
      process.execPath,
      [
        "-e",
        `const urls = ${JSON.stringify(burst.map((url) => `${server.url}${url}`))}
        let next = 0; const statuses = {}; const started = performance.now()
        Promise.all(Array.from({ length: 16 }, async () => {
          while (next < urls.length) { const res = await fetch(urls[next++]); await res.arrayBuffer(); statuses[res.status] = (statuses[res.status] ?? 0) + 1 }
        })).then(() => console.log(JSON.stringify({ ms: performance.now() - started, statuses })))`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    )
    const burstDone = new Promise<{ ms: number; statuses: Record<string, number> }>((resolve) => {
      let out = ""
      making.stdout!.on("data", (chunk) => (out += chunk))
      making.once("exit", () => resolve(JSON.parse(out)))
    })
    const busySsr = load(`${server.url}/ssr/`, ROUND_SECONDS * 2).rps
    const { ms: burstMs, statuses } = await burstDone
    const peakKb = kb(server.pid, "VmHWM")

    const ms = (values: number[]) => `${median(values).toFixed(0)} ms`
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)}, ${ROUNDS} rounds in turns, one worker, Node ${process.version}.`,
      "",
      "| | |",
      "| --- | ---: |",
      ...kinds.map(
        ({ label }) =>
          `| first make, 2000 × 1500 JPEG to 640 wide ${label} (fetch included), median: Node server, Next.js 15 | ${ms(firsts[label])}, ${ms(nextFirsts[label])} (${(median(firsts[label]) / median(nextFirsts[label])).toFixed(2)}) |`,
      ),
      `| the made WebP again (memory), req/s | ${median(again).toFixed(0)} |`,
      `| a file of public/ of the same bytes, req/s (the reference) | ${median(file).toFixed(0)} |`,
      `| again ÷ file | ${(median(again) / median(file)).toFixed(2)} |`,
      `| /ssr/ at rest, req/s | ${idleSsr.toFixed(0)} |`,
      `| /ssr/ while ${BURST} images are made 16 at a time, req/s | ${busySsr.toFixed(0)} (${(busySsr / idleSsr).toFixed(2)}) |`,
      `| the ${BURST} images: time, answers | ${(burstMs / 1000).toFixed(1)} s, ${JSON.stringify(statuses)} |`,
      `| RSS at rest, peak during the burst | ${Math.round(restKb / 1024)} MB, ${Math.round(peakKb / 1024)} MB (${(peakKb / restKb).toFixed(2)}) |`,
    ].join("\n")
    console.log(body)
    writeBenchmarksSection("images", body)
  } finally {
    await server.stop()
    await next.stop()
    host.stop()
    upstream.stop()
  }
}
