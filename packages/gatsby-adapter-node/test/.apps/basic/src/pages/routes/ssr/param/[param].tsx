import * as React from "react"
import type { GetServerData, PageProps } from "gatsby"

type ServerData = { query: unknown; params: unknown; url: string }

const SsrParamPage = ({ serverData }: PageProps<object, object, unknown, ServerData>) => (
  <>
    <h1>SSR with a param</h1>
    <pre data-testid="query">{JSON.stringify(serverData.query)}</pre>
    <pre data-testid="params">{JSON.stringify(serverData.params)}</pre>
    <pre data-testid="url">{serverData.url}</pre>
  </>
)

export default SsrParamPage

export const getServerData: GetServerData<ServerData> = async ({ query, params, url }) => ({
  props: { query, params, url },
  headers: { "x-ssr-header-getserverdata": "from getServerData", "x-ssr-header-overwrite": "getServerData" },
})
