import * as React from "react"
import { graphql, type PageProps } from "gatsby"

type Data = { site: { siteMetadata: { title: string } } }

const DsgQueryPage = ({ data }: PageProps<Data>) => (
  <>
    <h1>DSG with a page query</h1>
    <p data-testid="title">{data.site.siteMetadata.title}</p>
  </>
)

export default DsgQueryPage

export async function config(): Promise<() => { defer: boolean }> {
  return () => ({ defer: true })
}

export const query = graphql`
  {
    site {
      siteMetadata {
        title
      }
    }
  }
`
