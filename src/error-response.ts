// How a page's getServerData answers when it cannot show what was asked for: the HTTP status
// at the top level (Gatsby 5 ignores a `status` inside `headers`), and never cached.
export function errorResponse(status: 400 | 404 | 500) {
  return {
    // gatsby develop renders every page in the browser from its page-data, and for any status but 200
    // shows one of its own pages instead (for a 500, a blank one). There, 200 lets the page say why.
    status: process.env.NODE_ENV === "development" ? 200 : status,
    headers: { "Cache-Control": "no-store" },
  }
}
