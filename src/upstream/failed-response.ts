import diagnosticsChannel from "node:diagnostics_channel"
import { logFailure } from "./failure-log"
import { UpstreamError } from "./client"

// What a page's getServerData returns when it cannot show what was asked for: the HTTP status at the
// top level (Gatsby 5 ignores a status inside headers), and never cached.
export function failedResponse<const Props extends object>(status: 400 | 404 | 500, props: Props) {
  return {
    // gatsby develop renders every page in the browser from its page-data, and for any status but 200
    // shows one of its own pages instead (for a 500, a blank one). There, 200 lets the page say why.
    status: process.env.NODE_ENV === "development" ? 200 : status,
    headers: { "Cache-Control": "no-store" },
    props,
  }
}

// Where a server that runs the page may take its failures: gatsby-adapter-node's Node server logs them
// in its own bounded error log, as JSON, and counts them by API and reason (METRICS_PORT). Under
// gatsby serve or develop nothing listens, and the page logs them itself.
const upstreamFailures = diagnosticsChannel.channel("gatsby-adapter-node:upstream-failure")

// An API that the page asked failed: say why on the server, in the page's own words ("no dog"), in one
// line (bounded per API and kind of failure while it keeps failing), and answer 500 with empty props.
export function apiFailure(page: string, error: unknown, words: string) {
  const line = `[${page}] ${words}: ${error instanceof Error ? error.message : String(error)}`
  if (upstreamFailures.hasSubscribers) {
    const [api, reason] =
      error instanceof UpstreamError ? [error.upstream, error.reason] : ["unknown", "error"]
    upstreamFailures.publish({ api, reason, line })
  } else {
    const reason = error instanceof UpstreamError ? `${error.upstream}: ${error.reason}` : "error"
    logFailure(reason, line)
  }
  return failedResponse(500, {})
}

// An SSR page is read with GET (and HEAD, which Node answers with GET's headers); anything else would
// ask the dog API for nothing. 405 says which methods there are, and no cache keeps it.
// Gatsby always passes the method; without one (a direct call), the page is shown as for GET.
export function refusedMethod(method: string | undefined) {
  if (method === undefined || method === "GET" || method === "HEAD") return null
  return {
    status: 405,
    headers: { Allow: "GET, HEAD", "Cache-Control": "no-store" },
    props: {},
  }
}
