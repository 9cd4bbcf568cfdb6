import path from "node:path"
import type { GatsbyNode } from "gatsby"

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
