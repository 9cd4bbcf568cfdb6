// Gatsby's guide "Using Server Side Rendering (SSR)", its src/pages/ssr.js as written, for the bench
// to build beside the site. One change: the dog API's address comes from DOG_API_URL, so that the
// guide's page asks the bench's local upstream, as the site does.
import * as React from "react"

const SSRPage = ({ serverData }) => (
  <main>
    <h1>SSR Page with Dogs</h1>
    <img alt="Happy dog" src={serverData.message} />
  </main>
)

export default SSRPage

export async function getServerData() {
  try {
    const res = await fetch(`${globalThis.process.env.DOG_API_URL}/breeds/image/random`)

    if (!res.ok) {
      throw new Error(`Response failed`)
    }

    return {
      props: await res.json(),
    }
  } catch (error) {
    return {
      headers: {
        status: 500,
      },
      props: {},
    }
  }
}
