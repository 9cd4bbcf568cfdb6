/** @type {import("gatsby").GatsbyConfig} */
module.exports = {
  siteMetadata: { title: "Client-only app" },
  adapter: require("gatsby-adapter-node")(),
}
