import * as React from "react"

export default function Time({ serverData }) {
  return (
    <main>
      <h1>Asked for {serverData.asked}</h1>
    </main>
  )
}

export const Head = () => <title>Time</title>

export async function getServerData({ query }) {
  return { props: { asked: query.at || "now" } }
}
