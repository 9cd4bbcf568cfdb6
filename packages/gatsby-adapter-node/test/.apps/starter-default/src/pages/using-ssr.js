import * as React from "react"
import { Link } from "gatsby"
import Layout from "../components/layout"
import Seo from "../components/seo"

// As the starter's using-ssr: rendered at every request by getServerData, which answers 500 when its
// data fails. (The starter fetches a dog from dog.ceo; a fixture reaches no other host, so the data
// here is the request's own.)
const UsingSSR = ({ serverData }) => (
  <Layout>
    <h1>
      This page is <b>rendered server-side</b>
    </h1>
    <p>Breed: {serverData.breed}</p>
    <Link to="/">Go back to the homepage</Link>
  </Layout>
)

export const Head = () => <Seo title="Using SSR" />

export default UsingSSR

export async function getServerData({ query }) {
  try {
    if (query.breed === "none") throw new Error("Response failed")
    return { props: { breed: query.breed || "shiba" } }
  } catch {
    return { status: 500, headers: {}, props: {} }
  }
}
