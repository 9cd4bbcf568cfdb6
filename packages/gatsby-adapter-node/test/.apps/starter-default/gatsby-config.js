/** @type {import("gatsby").GatsbyConfig} */
module.exports = {
  siteMetadata: {
    title: "Default Starter",
    description: "A site in the shape of gatsby-starter-default, served by gatsby-adapter-node.",
    author: "@fixture",
  },
  // The one line a site adds to use the adapter.
  adapter: require("gatsby-adapter-node")(),
}
