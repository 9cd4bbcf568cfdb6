import * as React from "react"

export default function Broken() {
  return <h1>Never shown</h1>
}

// No 500 page to show for it.
export async function getServerData() {
  throw new Error("the data source is down")
}
