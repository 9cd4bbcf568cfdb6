import * as React from "react"
import { siteMetadata } from "../site-metadata"

type SeoProps = {
  title?: string
  description?: string
}

// The <head> of every page, rendered by each page's Gatsby Head export.
export function Seo({ title, description = siteMetadata.description }: SeoProps) {
  return (
    <>
      <title>{title ? `${title} | ${siteMetadata.title}` : siteMetadata.title}</title>
      <meta name="description" content={description} />
    </>
  )
}
