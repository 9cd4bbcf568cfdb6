import * as React from "react"
import type { GatsbySSR } from "gatsby"

export const onRenderBody: GatsbySSR["onRenderBody"] = ({ setHtmlAttributes, setHeadComponents }) => {
  // Screen readers and translators need the page language.
  setHtmlAttributes({ lang: "en" })
  // Here rather than in each page's Head, so that it is in the HTML that gatsby develop sends too;
  // otherwise the browser asks for /favicon.ico before the Head renders.
  setHeadComponents([<link key="icon" rel="icon" href="/favicon.svg" type="image/svg+xml" />])
}
