/** @type {import("gatsby").GatsbyNode["createPages"]} */
exports.createPages = async ({ actions }) => {
  // A deferred page (DSG): built at its first request, as the starter's using-dsg.
  actions.createPage({
    path: "/using-dsg",
    component: require.resolve("./src/templates/using-dsg.js"),
    context: {},
    defer: true,
  })
}
