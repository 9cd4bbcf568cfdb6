import * as React from "react"
import { Layout } from "../../components/layout"

const StaticPage = () => (
  <Layout>
    <h1>Static</h1>
  </Layout>
)

export default StaticPage
