import * as React from "react"
import type { PageProps } from "gatsby"

const PrioritizedMatchPath = ({ params }: PageProps) => (
  <>
    <h1 data-testid="title">client-only/prioritize matchpath</h1>
    <p data-testid="params">{params["*"]}</p>
  </>
)

export default PrioritizedMatchPath
