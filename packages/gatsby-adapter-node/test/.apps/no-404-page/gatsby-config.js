/** @type {import("gatsby").GatsbyConfig} */
module.exports = {
  siteMetadata: { title: "No 404 page" },
  adapter: require("gatsby-adapter-node")(),
}
