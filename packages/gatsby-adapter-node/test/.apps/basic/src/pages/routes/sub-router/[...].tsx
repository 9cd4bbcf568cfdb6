import * as React from "react"
import { Router, type RouteComponentProps } from "@reach/router"
import { withPrefix } from "gatsby"

// A router of the page's own under its wildcard, its base path included.
const base = withPrefix("/routes/sub-router")

const Marker = ({ page }: RouteComponentProps<{ page: string }>) => (
  <pre data-testid="dom-marker">[client-only-path] {page}</pre>
)

const Nested = (_props: RouteComponentProps) => (
  <Router>
    <Marker path="/:page" />
    <Marker default page="nested-index" />
  </Router>
)

const SubRouter = () => (
  <Router>
    <Marker path={base} page="index" />
    <Marker path={`${base}/page/:page`} />
    <Nested path={`${base}/nested/*`} />
    <Marker default page="not-found" />
  </Router>
)

export default SubRouter
