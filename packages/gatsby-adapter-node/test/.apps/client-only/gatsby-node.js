// The app's page answers every path under /app/; its router picks what to show, in the browser.
/** @type {import("gatsby").GatsbyNode["onCreatePage"]} */
exports.onCreatePage = ({ page, actions }) => {
  if (page.path.match(/^\/app/)) {
    actions.createPage({ ...page, matchPath: "/app/*" })
  }
}
