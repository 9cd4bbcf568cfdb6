import * as React from "react"
import { graphql, type PageProps } from "gatsby"
import { RemoteFileList, type RemoteFiles } from "../../../components/remote-files"

// A deferred page's remote images: written at its first request, as a server-rendered page's are.
const RemoteFileDsgPage = ({ data }: PageProps<RemoteFiles>) => (
  <>
    <h1>Remote files (DSG)</h1>
    <RemoteFileList data={data} />
  </>
)

export default RemoteFileDsgPage

export async function config(): Promise<() => { defer: boolean }> {
  return () => ({ defer: true })
}

export const query = graphql`
  query ($quality: Int!) {
    ...RemoteFiles
  }
`
