import * as React from "react"
import { useStaticQuery, graphql } from "gatsby"
import Header from "./header"
import "./layout.css"

const Layout = ({ children }) => {
  const data = useStaticQuery(graphql`
    query SiteTitleQuery {
      site {
        siteMetadata {
          title
        }
      }
    }
  `)
  return (
    <>
      <Header siteTitle={data.site.siteMetadata?.title || "Title"} />
      <main>{children}</main>
      <footer>© {new Date(Date.UTC(2026, 0, 1)).getUTCFullYear()}, built with Gatsby</footer>
    </>
  )
}

export default Layout
