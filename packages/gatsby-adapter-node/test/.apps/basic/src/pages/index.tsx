import * as React from "react"
import { Link, withPrefix, type HeadFC } from "gatsby"
import { Layout } from "../components/layout"
import mark from "../images/mark.svg"
import "./index.css"

const IndexPage = () => (
  <Layout>
    <h1>Node adapter fixture</h1>
    <img src={mark} alt="Imported through webpack" width={40} height={40} />
    <img src={withPrefix("/icon.svg")} alt="From the static folder" width={40} height={40} />
    <ul>
      <li>
        <Link to="/routes/static" data-testid="static-without-slash">
          Static, linked without a slash
        </Link>
      </li>
      <li>
        <Link to="/routes/static/" data-testid="static-with-slash">
          Static, linked with a slash
        </Link>
      </li>
    </ul>
  </Layout>
)

export default IndexPage

export const Head: HeadFC = () => <title>Node adapter fixture</title>
