import * as React from "react"
import { Link } from "gatsby"

export default function Home() {
  return (
    <main>
      <h1>Client-only app</h1>
      <Link to="/app/profile/">Your profile</Link>
    </main>
  )
}

export const Head = () => <title>Client-only app</title>
