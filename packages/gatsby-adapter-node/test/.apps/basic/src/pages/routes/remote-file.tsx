import * as React from "react"
import { graphql, type PageProps } from "gatsby"
import { RemoteFileList, type RemoteFiles } from "../../components/remote-files"

// A static page's remote images: made at build time, answered as files.
const RemoteFilePage = ({ data }: PageProps<RemoteFiles>) => (
  <>
    <h1>Remote files</h1>
    <RemoteFileList data={data} />
  </>
)

export default RemoteFilePage

export const query = graphql`
  query ($quality: Int!) {
    ...RemoteFiles
  }
`
