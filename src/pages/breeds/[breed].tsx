import * as React from "react"
import {
  Link,
  type GetServerDataProps,
  type GetServerDataReturn,
  type HeadProps,
  type PageProps,
} from "gatsby"
import { breedName, breedSlug, parseBreedSlug, type Breed } from "../../breed"
import { AnotherDogLink } from "../../components/another-dog-link"
import { Seo } from "../../components/seo"
import { DogApiError, fetchBreedDog } from "../../dog-api"
import { errorResponse } from "../../error-response"

// The breed comes from getServerData, not from the page's params, which Gatsby does not pass to
// an SSR page after a client-side navigation.
type ServerData = { breed: Breed; message: string } | { failure: 400 | 404 | 500 }

type Props = PageProps<object, object, unknown, ServerData>

// Each message says what went wrong without repeating the address, which anybody can type.
const failures = {
  400: "That is not a breed name. Breed addresses look like /breeds/husky/ or /breeds/hound-afghan/.",
  404: "No such breed.",
  500: "No dog right now — try refreshing.",
}

function title(serverData: ServerData): string {
  if ("breed" in serverData) return breedName(serverData.breed)
  return serverData.failure === 500 ? "Dog breeds" : "No such breed"
}

const BreedPage = ({ serverData }: Props) => {
  if ("failure" in serverData) {
    return (
      <main>
        <h1>{title(serverData)}</h1>
        <p role="status">{failures[serverData.failure]}</p>
        <p>
          <Link to="/breeds/">See every breed</Link>
        </p>
      </main>
    )
  }

  const name = title(serverData)
  return (
    <main>
      <h1>{name}</h1>
      <img
        className="dog"
        alt={`A random ${name.toLowerCase()}`}
        src={serverData.message}
        width={640}
        height={480}
      />
      <p className="actions">
        <AnotherDogLink page={`/breeds/${breedSlug(serverData.breed)}/`} current={serverData.message} />
        <Link to="/breeds/">All breeds</Link>
      </p>
    </main>
  )
}

export default BreedPage

export const Head = ({ serverData }: HeadProps<object, object, ServerData>) => (
  <Seo title={title(serverData)} />
)

export async function getServerData({ params }: GetServerDataProps): GetServerDataReturn<ServerData> {
  // Checked before anything else, so that a hostile address never reaches the dog API.
  const breed = parseBreedSlug(params?.breed)
  if (!breed) return { ...errorResponse(400), props: { failure: 400 } }

  try {
    const { message } = await fetchBreedDog(breed)
    return { props: { breed, message } }
  } catch (error) {
    if (error instanceof DogApiError && error.status === 404) {
      return { ...errorResponse(404), props: { failure: 404 } }
    }
    console.error(
      `[/breeds/${breedSlug(breed)}/] no dog: ${error instanceof Error ? error.message : String(error)}`,
    )
    return { ...errorResponse(500), props: { failure: 500 } }
  }
}
