import * as React from "react"

type ApiFailureMessageProps = { children: React.ReactNode }

// What a page says when the dog API failed. Under gatsby develop that is most often a machine without
// internet, for which the stand-in API exists; production builds leave that hint out.
export function ApiFailureMessage({ children }: ApiFailureMessageProps) {
  return (
    <>
      <p role="status">{children}</p>
      {process.env.NODE_ENV === "development" && (
        <p>
          No internet? <code>npm run develop:offline</code> serves dogs from a stand-in API on this machine.
        </p>
      )}
    </>
  )
}
