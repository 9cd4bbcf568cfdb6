import type { GatsbySSR } from "gatsby"

// Screen readers and translators need the page language.
export const onRenderBody: GatsbySSR["onRenderBody"] = ({ setHtmlAttributes }) => {
  setHtmlAttributes({ lang: "en" })
}
