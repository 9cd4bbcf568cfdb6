import * as React from "react"
import { Link } from "gatsby"

type AnotherDogLinkProps = {
  // The page to show again, for example "/ssr/".
  page: string
  // The URL of the dog on show now.
  current: string
}

// Gatsby keeps the page-data of every page it has shown, so a link to the same address would show
// the same dog. The query string makes each address new, and Gatsby runs getServerData again.
export function AnotherDogLink({ page, current }: AnotherDogLinkProps) {
  const after = current.split("/").pop() ?? ""
  return (
    <Link to={`${page}?after=${encodeURIComponent(after)}`} className="button">
      Another dog
    </Link>
  )
}
