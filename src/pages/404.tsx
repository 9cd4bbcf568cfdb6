import * as React from "react"
import { Link, type HeadFC, type PageProps } from "gatsby"
import { Seo } from "../components/seo"

const NotFoundPage = (_props: PageProps) => (
  <main>
    <h1>Page not found</h1>
    <p>
      There is no page at this address. <Link to="/">Go home</Link> or <Link to="/ssr/">see a dog</Link>.
    </p>
  </main>
)

export default NotFoundPage

export const Head: HeadFC = () => <Seo title="Page not found" />
