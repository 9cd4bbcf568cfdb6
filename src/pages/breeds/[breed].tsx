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
import { ApiFailureMessage } from "../../components/api-failure-message"
import { Seo } from "../../components/seo"
import { fetchBreedDog } from "../../dog-api"
import { dogPicture, type DogPicture } from "../../dog-picture"
import { apiFailure, failedResponse, refusedMethod } from "../../upstream/failed-response"
import { UpstreamError } from "../../upstream/client"

// The breed comes from getServerData, not from the page's params, which Gatsby does not pass to
// an SSR page after a client-side navigation. A refused address carries its status; empty props mean
// the dog API failed. `picture` is the dog in sizes and formats, where the host resizes pictures.
export type ServerData = { breed?: Breed; message?: string; picture?: DogPicture; refused?: 400 | 404 }

type Props = PageProps<object, object, unknown, ServerData>

// Each message says what went wrong without repeating the address, which anybody can type.
const refusals = {
  400: "That is not a breed name. Breed addresses look like /breeds/husky/ or /breeds/hound-afghan/.",
  404: "No such breed.",
}

function title({ breed, refused }: ServerData): string {
  if (breed) return breedName(breed)
  return refused ? "No such breed" : "Dog breeds"
}

const BreedPage = ({ serverData = {} }: Props) => {
  const { breed, message, picture, refused } = serverData
  if (!breed || !message) {
    return (
      <main>
        <h1>{title(serverData)}</h1>
        {refused ? (
          <p role="status">{refusals[refused]}</p>
        ) : (
          <ApiFailureMessage>No dog right now — try refreshing.</ApiFailureMessage>
        )}
        <p>
          <Link to="/breeds/">See every breed</Link>
        </p>
      </main>
    )
  }

  const name = breedName(breed)
  const dog = (
    <img
      className="dog"
      alt={`A random ${name.toLowerCase()}`}
      src={picture?.src ?? message}
      srcSet={picture?.srcSet}
      sizes={picture?.sizes}
      width={640}
      height={480}
    />
  )
  return (
    <main>
      <h1>{name}</h1>
      {picture ? (
        <picture>
          {picture.sources.map(({ type, srcSet }) => (
            <source key={type} type={type} srcSet={srcSet} sizes={picture.sizes} />
          ))}
          {dog}
        </picture>
      ) : (
        dog
      )}
      <p className="actions">
        <AnotherDogLink page={`/breeds/${breedSlug(breed)}/`} current={message} />
        <Link to="/breeds/">All breeds</Link>
      </p>
      {/* The same for every visitor, so the page stays cacheable; /for-you/ is the page that differs. */}
      <form method="post" action="/api/favourite-breed" className="actions">
        <input type="hidden" name="breed" value={breedSlug(breed)} />
        <button type="submit">Make {name} my favourite breed</button>
      </form>
    </main>
  )
}

export default BreedPage

export const Head = ({ serverData = {} }: HeadProps<object, object, ServerData>) => (
  <Seo title={title(serverData)} />
)

export async function getServerData({ method, params }: GetServerDataProps): GetServerDataReturn<ServerData> {
  const refused = refusedMethod(method)
  if (refused) return refused
  // Checked before anything else, so that a hostile address never reaches the dog API.
  const breed = parseBreedSlug(params?.breed)
  if (!breed) return failedResponse(400, { refused: 400 })

  try {
    const { message } = await fetchBreedDog(breed)
    const picture = dogPicture(message)
    return { props: picture ? { breed, message, picture } : { breed, message } }
  } catch (error) {
    if (error instanceof UpstreamError && error.status === 404) return failedResponse(404, { refused: 404 })
    return apiFailure(`/breeds/${breedSlug(breed)}/`, error, "no dog")
  }
}
