/**
 * @jest-environment jest-fixed-jsdom
 */
import * as React from "react"
import type { HeadProps, PageProps } from "gatsby"
import { render, screen } from "@testing-library/react"
import BreedPage, { Head, type ServerData } from "../src/pages/breeds/[breed]"
import BreedsPage, { type ServerData as BreedsServerData } from "../src/pages/breeds/index"

const AFGHAN = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"

const HOUND_AFGHAN = { main: "hound", sub: "afghan" }

// The pages read only serverData; Gatsby passes the rest of PageProps.
function renderBreed(serverData: ServerData | undefined) {
  return render(<BreedPage {...({ serverData } as PageProps<object, object, unknown, ServerData>)} />)
}

function renderBreeds(serverData: BreedsServerData | undefined) {
  return render(<BreedsPage {...({ serverData } as PageProps<object, object, unknown, BreedsServerData>)} />)
}

test("shows a dog of the breed, under its name", () => {
  renderBreed({ breed: HOUND_AFGHAN, message: AFGHAN })

  expect(screen.getByRole("heading", { level: 1, name: "Afghan hound" })).toBeInTheDocument()
  expect(screen.getByRole("img", { name: "A random afghan hound" })).toHaveAttribute("src", AFGHAN)
})

test("offers the dog in modern formats, at the sizes shown, where the host resizes pictures", () => {
  const picture = {
    sources: [
      { type: "image/avif", srcSet: "/cdn/avif/320 320w, /cdn/avif/640 640w" },
      { type: "image/webp", srcSet: "/cdn/webp/320 320w, /cdn/webp/640 640w" },
    ],
    src: "/cdn/jpg/640",
    srcSet: "/cdn/jpg/320 320w, /cdn/jpg/640 640w",
    sizes: "(max-width: 42rem) 100vw, 42rem",
  }
  const { container } = renderBreed({ breed: HOUND_AFGHAN, message: AFGHAN, picture })

  const dog = screen.getByRole("img", { name: "A random afghan hound" })
  expect(dog).toHaveAttribute("src", "/cdn/jpg/640")
  expect(dog).toHaveAttribute("srcset", picture.srcSet)
  expect(dog).toHaveAttribute("sizes", picture.sizes)
  const sources = [...container.querySelectorAll("picture > source")].map((source) => ({
    type: source.getAttribute("type"),
    srcSet: source.getAttribute("srcset"),
    sizes: source.getAttribute("sizes"),
  }))
  expect(sources).toEqual(picture.sources.map((source) => ({ ...source, sizes: picture.sizes })))
})

test("links to another dog of the same breed, and back to every breed", () => {
  renderBreed({ breed: HOUND_AFGHAN, message: AFGHAN })

  expect(screen.getByRole("link", { name: "Another dog" })).toHaveAttribute(
    "href",
    "/breeds/hound-afghan/?after=n02088094_1003.jpg",
  )
  expect(screen.getByRole("link", { name: "All breeds" })).toHaveAttribute("href", "/breeds/")
})

test.each<[string, ServerData | undefined, string]>([
  ["404", { refused: 404 }, "No such breed."],
  ["400", { refused: 400 }, "That is not a breed name."],
  ["500", {}, "No dog right now — try refreshing."],
  ["with no serverData at all", undefined, "No dog right now — try refreshing."],
  ["with a breed but no picture", { breed: HOUND_AFGHAN }, "No dog right now — try refreshing."],
])("says what went wrong, with no image, when the page answers %s", (_case, serverData, message) => {
  renderBreed(serverData)

  expect(screen.getByRole("status")).toHaveTextContent(message)
  expect(screen.queryByRole("img")).not.toBeInTheDocument()
  expect(screen.getByRole("link", { name: "See every breed" })).toHaveAttribute("href", "/breeds/")
})

test("lists each breed as a link to its page", () => {
  const breeds = [{ main: "hound", sub: "afghan" }, { main: "husky" }]
  renderBreeds({ breeds })

  expect(screen.getByRole("link", { name: "Afghan hound" })).toHaveAttribute("href", "/breeds/hound-afghan/")
  expect(screen.getByRole("link", { name: "Husky" })).toHaveAttribute("href", "/breeds/husky/")
})

test.each([
  ["empty", {}],
  ["missing", undefined],
])("says so when there is no breed list (serverData %s)", (_case, serverData) => {
  renderBreeds(serverData)

  expect(screen.getByRole("status")).toHaveTextContent("No breeds right now — try refreshing.")
  expect(screen.queryByRole("list")).not.toBeInTheDocument()
})

test.each<[ServerData | undefined, string]>([
  [{ breed: HOUND_AFGHAN, message: AFGHAN }, "Afghan hound | Gatsby SSR Dogs"],
  [{ refused: 404 }, "No such breed | Gatsby SSR Dogs"],
  [{}, "Dog breeds | Gatsby SSR Dogs"],
  [undefined, "Dog breeds | Gatsby SSR Dogs"],
])("titles the breed page after what it shows", (serverData, title) => {
  render(<Head {...({ serverData } as HeadProps<object, object, ServerData>)} />)

  expect(document.title).toBe(title)
})
