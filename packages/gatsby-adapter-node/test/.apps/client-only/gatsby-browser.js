// The suite waits for this mark before it clicks: before hydration a click is a full page load.
/** @type {import("gatsby").GatsbyBrowser["onInitialClientRender"]} */
exports.onInitialClientRender = () => {
  document.documentElement.dataset.hydrated = "true"
}
