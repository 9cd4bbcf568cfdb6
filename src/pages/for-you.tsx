import * as React from "react"
import { Link, type GetServerDataProps, type GetServerDataReturn, type HeadFC, type PageProps } from "gatsby"
import { breedName, breedSlug, type Breed } from "../breed"
import { ApiFailureMessage } from "../components/api-failure-message"
import { Seo } from "../components/seo"
import { fetchBreedDog, fetchRandomDog } from "../dog-api"
import { apiFailure, refusedMethod } from "../upstream/failed-response"
import { favouriteFromCookies } from "../favourite-breed"
import { UpstreamError } from "../upstream/client"

// What SSR is for, in the guide's own words: "dynamic personalization". This page depends on who asks:
// a dog of the visitor's favourite breed (a cookie that a breed page's form sets), or a random dog and
// how to pick one. Empty props mean the dog API failed.
export type ServerData = { breed?: Breed; message?: string }

// Every answer of this page is for one visitor: no shared cache (a CDN, a proxy) may keep it, and one
// that ignores `private` still keys it by the cookie.
const PERSONAL = { "Cache-Control": "private, no-store", Vary: "Cookie" }

const ForYouPage = ({ serverData = {} }: PageProps<object, object, unknown, ServerData>) => {
  const { breed, message } = serverData
  if (!message) {
    return (
      <main>
        <h1>Your dog</h1>
        <ApiFailureMessage>No dog right now — try refreshing.</ApiFailureMessage>
      </main>
    )
  }
  return (
    <main>
      <h1>Your dog</h1>
      {breed ? (
        <p>
          Your favourite breed: <Link to={`/breeds/${breedSlug(breed)}/`}>{breedName(breed)}</Link>
        </p>
      ) : (
        <p>
          No favourite yet: pick one on any breed&apos;s page (<Link to="/breeds/">see every breed</Link>),
          and this page shows that breed.
        </p>
      )}
      <img
        className="dog"
        alt={breed ? `A ${breedName(breed).toLowerCase()}` : "A random dog"}
        src={message}
        width={640}
        height={480}
      />
      {breed && (
        // A plain form: it works before the page's JavaScript has loaded, or without it.
        <form method="post" action="/api/favourite-breed" className="actions">
          <input type="hidden" name="forget" value="1" />
          <button type="submit">Forget my favourite</button>
        </form>
      )}
    </main>
  )
}

export default ForYouPage

export const Head: HeadFC = () => (
  <Seo title="Your dog" description="A dog of your favourite breed, rendered on the server for you alone." />
)

export async function getServerData({
  headers,
  method,
}: GetServerDataProps): GetServerDataReturn<ServerData> {
  const refused = refusedMethod(method)
  if (refused) return refused
  // Gatsby hands the request's headers over as a Map, by lower-case name: headers.cookie is undefined,
  // and JSON.stringify(headers) shows {}.
  const cookies = headers.get("cookie")
  const favourite = favouriteFromCookies(typeof cookies === "string" ? cookies : undefined)

  try {
    if (favourite) {
      try {
        const { message } = await fetchBreedDog(favourite)
        return { headers: PERSONAL, props: { breed: favourite, message } }
      } catch (error) {
        // A breed the API does not know (it was forged, or the API dropped it) is no favourite.
        if (!(error instanceof UpstreamError && error.status === 404)) throw error
      }
    }
    const { message } = await fetchRandomDog()
    return { headers: PERSONAL, props: { message } }
  } catch (error) {
    const failed = apiFailure("/for-you/", error, "no dog")
    return { ...failed, headers: { ...failed.headers, ...PERSONAL } }
  }
}
