import * as React from "react"

type ApiFailureMessageProps = { children: React.ReactNode }

// What a page says when the dog API failed. Under gatsby develop that is most often a machine without
// internet, for which the stand-in API exists, and the status is 200 (src/upstream/failed-response.ts says why):
// both are said there; production builds leave them out.
export function ApiFailureMessage({ children }: ApiFailureMessageProps) {
  return (
    <>
      <p role="status">{children}</p>
      {process.env.NODE_ENV === "development" && (
        <>
          <p>
            No internet? <code>npm run develop:offline</code> serves dogs from a stand-in API on this machine.
          </p>
          <p>
            Under <code>gatsby develop</code> this page answers 200, so that it can say this; a production
            server answers 500, which no cache keeps.
          </p>
        </>
      )}
    </>
  )
}
