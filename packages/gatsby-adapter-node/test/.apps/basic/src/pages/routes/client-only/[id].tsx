import * as React from "react"
import type { PageProps } from "gatsby"

const ClientOnlyParam = ({ params }: PageProps) => (
  <>
    <h1 data-testid="title">client-only</h1>
    <p data-testid="params">{params.id}</p>
  </>
)

export default ClientOnlyParam
