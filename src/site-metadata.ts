// Shared by gatsby-config.ts (for plugins) and the Seo component, so the pages need no
// GraphQL query, and no extra static-query download, for three strings.
export const siteMetadata = {
  title: "Gatsby SSR Dogs",
  description: "Server-side rendering in Gatsby 5: a new dog on every request, fetched by getServerData.",
  siteUrl: "https://gatsby-ssr-dogs.netlify.app",
}
