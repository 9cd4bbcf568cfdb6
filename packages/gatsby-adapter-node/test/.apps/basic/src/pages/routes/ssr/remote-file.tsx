import * as React from "react"
import { graphql, type GetServerData, type PageProps } from "gatsby"
import { RemoteFileList, type RemoteFiles } from "../../../components/remote-files"

// A server-rendered page's remote images: their addresses are written at request time, and the server
// makes each at its first request.
const RemoteFileSsrPage = ({ data }: PageProps<RemoteFiles>) => (
  <>
    <h1>Remote files (SSR)</h1>
    <RemoteFileList data={data} />
  </>
)

export default RemoteFileSsrPage

export const getServerData: GetServerData<object> = async () => ({ props: {} })

export const query = graphql`
  query ($quality: Int!) {
    ...RemoteFiles
  }
`
