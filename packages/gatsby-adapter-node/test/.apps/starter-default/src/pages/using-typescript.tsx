import * as React from "react"
import { type PageProps, Link, graphql, type HeadFC } from "gatsby"
import Layout from "../components/layout"
import Seo from "../components/seo"

type DataProps = { site: { buildTime: string } }

const UsingTypescript = ({ data, location }: PageProps<DataProps>) => (
  <Layout>
    <h1>
      Gatsby supports <b>TypeScript by default</b>
    </h1>
    <p>
      This page was built at <time>{data.site.buildTime}</time>, and is at {location.pathname}.
    </p>
    <Link to="/">Go back to the homepage</Link>
  </Layout>
)

export const Head: HeadFC<DataProps> = () => <Seo title="Using TypeScript" />

export default UsingTypescript

export const query = graphql`
  {
    site {
      buildTime(formatString: "YYYY")
    }
  }
`
