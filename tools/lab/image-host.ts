import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import sharp from "sharp"

// The remote host of the images bench (images.ts), as a CMS's: one JPEG of 2000 x 1500, a photograph's
// worth of detail (noise, not a flat colour, which would make every transform trivial), at every
// /photo-<n>.jpg, so that each n is a source of its own to fetch and make. It prints its URL, and ends
// when its standard input does (upstream-process.ts).

const width = 2000
const height = 1500
const noise = Buffer.alloc(width * height * 3)
for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24
const photo = await sharp(noise, { raw: { width, height, channels: 3 } })
  .blur(3)
  .jpeg({ quality: 85 })
  .toBuffer()

const server = createServer((req, res) => {
  if (!/^\/photo-\d+\.jpg$/.test(req.url ?? "")) return void res.writeHead(404).end()
  res.writeHead(200, { "content-type": "image/jpeg", "content-length": photo.length }).end(photo)
})
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.stdin.resume().on("end", () => process.exit(0))
