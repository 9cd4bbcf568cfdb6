import * as React from "react"
import type { PageProps } from "gatsby"

const ClientOnlyNamedWildcard = ({ params }: PageProps) => (
  <>
    <h1 data-testid="title">client-only/named-wildcard</h1>
    <p data-testid="params">{params.slug}</p>
  </>
)

export default ClientOnlyNamedWildcard
