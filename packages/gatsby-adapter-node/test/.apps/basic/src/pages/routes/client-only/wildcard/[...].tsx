import * as React from "react"
import type { PageProps } from "gatsby"

const ClientOnlyWildcard = ({ params }: PageProps) => (
  <>
    <h1 data-testid="title">client-only/wildcard</h1>
    <p data-testid="params">{params["*"]}</p>
  </>
)

export default ClientOnlyWildcard
