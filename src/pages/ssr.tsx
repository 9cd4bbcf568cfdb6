import * as React from "react"
import { Link, type GetServerDataProps, type GetServerDataReturn, type HeadFC, type PageProps } from "gatsby"
import { breedFromImageUrl, breedName, breedSlug } from "../breed"
import { AnotherDogLink } from "../components/another-dog-link"
import { ApiFailureMessage } from "../components/api-failure-message"
import { Seo } from "../components/seo"
import { fetchRandomDog } from "../dog-api"
import { apiFailure, refusedMethod } from "../upstream/failed-response"

// Empty when the dog API failed: the page must cope with no dog.
export type ServerData = { message?: string }

// Correction: `serverData` may be missing altogether (a stale page-data file), so it defaults to no dog.
const SSRPage = ({ serverData = {} }: PageProps<object, object, unknown, ServerData>) => {
  // dog.ceo's image URLs name the breed, so the page can link to it without asking the API again.
  const breed = serverData.message ? breedFromImageUrl(serverData.message) : null

  return (
    <main>
      <h1>SSR Page with Dogs</h1>
      {serverData.message ? (
        <>
          {/* Correction: width and height (and aspect-ratio in CSS) keep the layout still while it loads. */}
          <img className="dog" alt="Happy dog" src={serverData.message} width={640} height={480} />
          <p className="actions">
            <AnotherDogLink page="/ssr/" current={serverData.message} />
            {breed && (
              <span>
                Breed: <Link to={`/breeds/${breedSlug(breed)}/`}>{breedName(breed)}</Link>
              </span>
            )}
          </p>
        </>
      ) : (
        // Correction: a message instead of an <img> with no src when there is no dog.
        <ApiFailureMessage>No dog right now — try refreshing.</ApiFailureMessage>
      )}
    </main>
  )
}

export default SSRPage

export const Head: HeadFC = () => (
  <Seo title="SSR Page with Dogs" description="A random dog, rendered on the server at every request." />
)

export async function getServerData({ method }: GetServerDataProps): GetServerDataReturn<ServerData> {
  // Correction: the page is for GET and HEAD; a POST or DELETE gets 405 and never reaches the API.
  const refused = refusedMethod(method)
  if (refused) return refused

  try {
    // Correction: fetchRandomDog has a timeout and checks the answer, and only the field the
    // page renders goes into props, because Gatsby serializes props into the HTML.
    const { message } = await fetchRandomDog()

    return {
      props: { message },
    }
  } catch (error) {
    // Correction: log why there is no dog, and answer a real HTTP 500 that no cache keeps; the guide
    // puts the status among the headers, which answers HTTP 200 (see src/upstream/failed-response.ts).
    return apiFailure("/ssr/", error, "no dog")
  }
}
