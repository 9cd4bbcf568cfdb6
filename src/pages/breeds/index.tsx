import * as React from "react"
import { Link, type GetServerDataProps, type GetServerDataReturn, type HeadFC, type PageProps } from "gatsby"
import { breedName, breedSlug, type Breed } from "../../breed"
import { ApiFailureMessage } from "../../components/api-failure-message"
import { Seo } from "../../components/seo"
import { fetchBreeds } from "../../dog-api"
import { apiFailure, refusedMethod } from "../../upstream/failed-response"

// Empty when the dog API failed.
export type ServerData = { breeds?: Breed[] }

const BreedsPage = ({ serverData = {} }: PageProps<object, object, unknown, ServerData>) => (
  <main>
    <h1>Dog breeds</h1>
    {serverData.breeds ? (
      <ul className="breeds">
        {serverData.breeds.map((breed) => (
          <li key={breedSlug(breed)}>
            <Link to={`/breeds/${breedSlug(breed)}/`}>{breedName(breed)}</Link>
          </li>
        ))}
      </ul>
    ) : (
      <ApiFailureMessage>No breeds right now — try refreshing.</ApiFailureMessage>
    )}
  </main>
)

export default BreedsPage

export const Head: HeadFC = () => <Seo title="Dog breeds" description="Every breed the dog API knows." />

export async function getServerData({ method }: GetServerDataProps): GetServerDataReturn<ServerData> {
  const refused = refusedMethod(method)
  if (refused) return refused

  try {
    return {
      // The list rarely changes, so it may be cached where SSR is paid for: browsers keep it for an
      // hour (max-age), shared caches and CDNs for a day (s-maxage), and for a week after that a cache
      // may answer with the old list while it fetches a new one (stale-while-revalidate).
      headers: { "Cache-Control": "public, max-age=3600, s-maxage=86400, stale-while-revalidate=604800" },
      props: { breeds: await fetchBreeds() },
    }
  } catch (error) {
    return apiFailure("/breeds/", error, "no breeds")
  }
}
