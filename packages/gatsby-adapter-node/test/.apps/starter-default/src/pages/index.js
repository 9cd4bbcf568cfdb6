import * as React from "react"
import { Link } from "gatsby"
import Layout from "../components/layout"
import Seo from "../components/seo"
import * as styles from "../components/index.module.css"

const links = [
  { to: "/page-2/", text: "Go to page 2" },
  { to: "/using-typescript/", text: "Go to Using TypeScript" },
  { to: "/using-ssr/", text: "Go to Using SSR" },
  { to: "/using-dsg/", text: "Go to Using DSG" },
]

const IndexPage = () => (
  <Layout>
    <h1>Welcome to the default starter</h1>
    <ul className={styles.list}>
      {links.map((link) => (
        <li key={link.to} className={styles.listItem}>
          <Link to={link.to}>{link.text}</Link>
        </li>
      ))}
    </ul>
  </Layout>
)

export const Head = () => <Seo title="Home" />

export default IndexPage
