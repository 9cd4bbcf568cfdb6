import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import sharp from "sharp"

// A remote host of images, as a CMS's is, on 127.0.0.1: the three JPEGs of Gatsby's own adapter suite
// (its remote-file specs), by size, the first of the colour its dominant-colour placeholder expects.
// The fixture site's nodes point at it (.apps/basic/gatsby-node.ts, by REMOTE_IMAGES_URL); the server
// under test fetches from it when a page's image is first asked for.
export const REMOTE_IMAGES_ENV = "REMOTE_IMAGES_URL"

const PHOTOS: Record<string, { width: number; height: number; background: string }> = {
  "/photo-a.jpg": { width: 2000, height: 2667, background: "#e8b808" },
  "/photo-b.jpg": { width: 1247, height: 2000, background: "#2060a0" },
  "/photo-c.jpg": { width: 2000, height: 1333, background: "#40a040" },
}

export async function startRemoteImages(): Promise<{ url: string; close(): Promise<void> }> {
  const bodies = new Map<string, Buffer>()
  for (const [name, { width, height, background }] of Object.entries(PHOTOS))
    bodies.set(
      name,
      await sharp({ create: { width, height, channels: 3, background } })
        .jpeg()
        .toBuffer(),
    )
  const server: Server = createServer((req, res) => {
    const body = bodies.get(new URL(req.url!, "http://host").pathname)
    if (!body) return void res.writeHead(404).end()
    res.writeHead(200, { "content-type": "image/jpeg", "content-length": body.length }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
