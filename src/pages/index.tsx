import * as React from "react"
import { Link, type HeadFC, type PageProps } from "gatsby"
import { Seo } from "../components/seo"

const IndexPage = (_props: PageProps) => (
  <main>
    <h1>Server-side rendering in Gatsby</h1>
    <p>
      This site implements Gatsby&apos;s guide <em>Using Server Side Rendering (SSR)</em>. Its dog page
      exports <code>getServerData</code>, so Gatsby renders it on the server at every request with a fresh
      random dog from the <a href="https://dog.ceo/dog-api/">dog.ceo API</a>.
    </p>
    <p className="actions">
      <Link to="/ssr/" className="button">
        Show me a dog
      </Link>
      <Link to="/breeds/">Browse the breeds</Link>
      <Link to="/for-you/">Your dog</Link>
    </p>
    <p>
      The breed pages go further than the guide: a route parameter, a cacheable SSR answer, and the status
      codes 400, 404 and 500. <Link to="/for-you/">Your dog</Link> shows what the guide says SSR is for: a
      page that depends on who asks, here a dog of the favourite breed you pick on a breed page.
    </p>
  </main>
)

export default IndexPage

export const Head: HeadFC = () => <Seo />
