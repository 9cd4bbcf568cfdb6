/** @type {import("gatsby").GatsbyConfig} */
module.exports = {
  siteMetadata: { title: "Functions" },
  adapter: require("gatsby-adapter-node")(),
}
