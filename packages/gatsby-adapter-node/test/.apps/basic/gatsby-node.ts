import path from "node:path"
import type { GatsbyNode } from "gatsby"
import { addRemoteFilePolyfillInterface } from "gatsby-plugin-utils/polyfill-remote-file"

// Remote images as a CMS's source plugin gives them (Gatsby's RemoteFile nodes), from the suite's host
// on 127.0.0.1 (../../remote-images.ts), which the build allows; as in Gatsby's own adapter suite.
const remoteImages = process.env.REMOTE_IMAGES_URL
const photos = [
  { name: "photo-a.jpg", width: 2000, height: 2667 },
  { name: "photo-b.jpg", width: 1247, height: 2000 },
  { name: "photo-c.jpg", width: 2000, height: 1333 },
]

export const onPluginInit: GatsbyNode["onPluginInit"] = ({ actions }) => {
  if (remoteImages) actions.addRemoteFileAllowedUrl?.(`${remoteImages}/*`)
}

export const createSchemaCustomization: GatsbyNode["createSchemaCustomization"] = ({
  actions,
  schema,
  store,
}) => {
  actions.createTypes(
    addRemoteFilePolyfillInterface(
      schema.buildObjectType({ name: "MyRemoteFile", fields: {}, interfaces: ["Node", "RemoteFile"] }),
      { schema, actions, store },
    ),
  )
}

// The quality of each remote-file page's images: the static page's are made at build time, and the
// others ask for another, so that the server makes theirs at request time (the same addresses would be
// answered as the static page's files).
export const onCreatePage: GatsbyNode["onCreatePage"] = ({ page, actions }) => {
  if (!/\/remote-file\/?$/.test(page.path)) return
  actions.deletePage(page)
  actions.createPage({
    ...page,
    context: { ...page.context, quality: page.path.startsWith("/routes/remote-file") ? 75 : 70 },
  })
}

export const sourceNodes: GatsbyNode["sourceNodes"] = ({ actions, createNodeId, createContentDigest }) => {
  if (!remoteImages) return
  for (const { name, width, height } of photos) {
    const url = `${remoteImages}/${name}`
    actions.createNode({
      id: createNodeId(url),
      url,
      filename: name,
      mimeType: "image/jpeg",
      width,
      height,
      internal: { type: "MyRemoteFile", contentDigest: createContentDigest(url) },
    })
  }
}

// Redirects as the site's own code writes them, in the path form of the trailingSlash under test
// ("ignore": as written, without one).
const slash = (to: string) => ((process.env.TRAILING_SLASH || "always") === "always" ? `${to}/` : to)

export const createPages: GatsbyNode["createPages"] = ({ actions: { createRedirect, createSlice } }) => {
  const hit = slash("/routes/redirect/hit")
  createRedirect({ fromPath: slash("/redirect"), toPath: hit })
  // A page at this path wins over the redirect, unless the redirect is forced.
  createRedirect({ fromPath: slash("/routes/redirect/existing"), toPath: hit })
  createRedirect({ fromPath: slash("/routes/redirect/existing-force"), toPath: hit, force: true })
  // Conditions, the first that matches wins; the one without conditions is the fallback.
  const country = slash("/routes/redirect/country")
  createRedirect({
    fromPath: country,
    toPath: slash("/routes/redirect/hit-us"),
    conditions: { country: ["us"] },
  })
  createRedirect({
    fromPath: country,
    toPath: slash("/routes/redirect/hit-de"),
    conditions: { country: ["de"] },
  })
  createRedirect({ fromPath: country, toPath: hit })
  const language = slash("/routes/redirect/language")
  createRedirect({
    fromPath: language,
    toPath: slash("/routes/redirect/hit-de"),
    conditions: { language: ["de"] },
  })
  createRedirect({ fromPath: language, toPath: hit })
  createRedirect({ fromPath: slash("/Redirect-Any-Case"), toPath: hit, ignoreCase: true })
  // A splat: what * matched in fromPath takes the place of * in toPath.
  createRedirect({ fromPath: "/old-wildcard/*", toPath: "/routes/client-only/wildcard/*", isPermanent: true })
  // A splat at the start of its target: /go//evil.example/ must not become //evil.example/.
  createRedirect({ fromPath: "/go/*", toPath: "/*" })

  createSlice({ id: "footer", component: path.resolve("src/components/footer.tsx") })
}
