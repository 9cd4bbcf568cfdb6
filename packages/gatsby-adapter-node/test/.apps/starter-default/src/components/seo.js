import * as React from "react"
import { useStaticQuery, graphql } from "gatsby"

function Seo({ description = "", title, children = null }) {
  const { site } = useStaticQuery(graphql`
    query {
      site {
        siteMetadata {
          title
          description
          author
        }
      }
    }
  `)
  const metaDescription = description || site.siteMetadata.description
  return (
    <>
      <title>{`${title} | ${site.siteMetadata.title}`}</title>
      <meta name="description" content={metaDescription} />
      <meta name="twitter:creator" content={site.siteMetadata.author} />
      {children}
    </>
  )
}

export default Seo
