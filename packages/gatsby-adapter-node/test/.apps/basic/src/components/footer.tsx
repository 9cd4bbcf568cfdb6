import * as React from "react"
import { graphql, useStaticQuery } from "gatsby"

type Data = { site: { siteMetadata: { title: string } } }

// A static query, as in Gatsby's adapter suite: its result is a file of its own (/page-data/sq/d/…).
const Footer = () => {
  const { site } = useStaticQuery<Data>(graphql`
    {
      site {
        siteMetadata {
          title
        }
      }
    }
  `)
  return <footer>A footer from a Slice, on {site.siteMetadata.title}</footer>
}

export default Footer
