import * as React from "react"

export default function Home() {
  return (
    <main>
      <h1>A site with no 404 page</h1>
      <a href="/time/">What time the server thinks it is</a>
    </main>
  )
}

export const Head = () => <title>No 404 page</title>
