/** @type {import("gatsby").GatsbySSR["onRenderBody"]} */
exports.onRenderBody = ({ setHtmlAttributes }) => {
  setHtmlAttributes({ lang: "en" })
}
