import * as React from "react"
import { Link, type HeadFC, type PageProps } from "gatsby"
import { Seo } from "../components/seo"

// Gatsby shows this page when a page's data answers 500: in gatsby develop, and when a person
// follows a link to /ssr/ while the dog API is failing. Without it, they would see a blank page.
const ServerErrorPage = (_props: PageProps) => (
  <main>
    <h1>Something went wrong</h1>
    <p role="status">The server could not get what this page needs. Try refreshing in a moment.</p>
    <p>
      <Link to="/">Go home</Link>
    </p>
  </main>
)

export default ServerErrorPage

export const Head: HeadFC = () => <Seo title="Something went wrong" />
