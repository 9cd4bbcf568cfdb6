/**
 * @jest-environment jest-fixed-jsdom
 */
import * as React from "react"
import type { HeadProps, PageProps } from "gatsby"
import { render, screen } from "@testing-library/react"
import BreedPage, { Head } from "../src/pages/breeds/[breed]"
import BreedsPage from "../src/pages/breeds/index"

const AFGHAN = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"

const HOUND_AFGHAN = { main: "hound", sub: "afghan" }

// The pages read only serverData; Gatsby passes the rest of PageProps.
function renderBreed(serverData: object) {
  return render(<BreedPage {...({ serverData } as unknown as React.ComponentProps<typeof BreedPage>)} />)
}

test("shows a dog of the breed, under its name", () => {
  renderBreed({ breed: HOUND_AFGHAN, message: AFGHAN })

  expect(screen.getByRole("heading", { level: 1, name: "Afghan hound" })).toBeInTheDocument()
  expect(screen.getByRole("img", { name: "A random afghan hound" })).toHaveAttribute("src", AFGHAN)
})

test("links to another dog of the same breed, and back to every breed", () => {
  renderBreed({ breed: HOUND_AFGHAN, message: AFGHAN })

  expect(screen.getByRole("link", { name: "Another dog" })).toHaveAttribute(
    "href",
    "/breeds/hound-afghan/?after=n02088094_1003.jpg",
  )
  expect(screen.getByRole("link", { name: "All breeds" })).toHaveAttribute("href", "/breeds/")
})

test.each([
  [404, "No such breed."],
  [400, "That is not a breed name."],
  [500, "No dog right now — try refreshing."],
])("says what went wrong, with no image, when the page answers %i", (failure, message) => {
  renderBreed({ failure })

  expect(screen.getByRole("status")).toHaveTextContent(message)
  expect(screen.queryByRole("img")).not.toBeInTheDocument()
  expect(screen.getByRole("link", { name: "See every breed" })).toHaveAttribute("href", "/breeds/")
})

test("lists each breed as a link to its page", () => {
  const breeds = [{ main: "hound", sub: "afghan" }, { main: "husky" }]
  render(
    <BreedsPage
      {...({ serverData: { breeds } } as PageProps<object, object, unknown, { breeds: typeof breeds }>)}
    />,
  )

  expect(screen.getByRole("link", { name: "Afghan hound" })).toHaveAttribute("href", "/breeds/hound-afghan/")
  expect(screen.getByRole("link", { name: "Husky" })).toHaveAttribute("href", "/breeds/husky/")
})

test("says so when there is no breed list", () => {
  render(<BreedsPage {...({ serverData: {} } as PageProps<object, object, unknown, object>)} />)

  expect(screen.getByRole("status")).toHaveTextContent("No breeds right now — try refreshing.")
  expect(screen.queryByRole("list")).not.toBeInTheDocument()
})

test.each([
  [{ breed: HOUND_AFGHAN, message: AFGHAN }, "Afghan hound | Gatsby SSR Dogs"],
  [{ failure: 404 }, "No such breed | Gatsby SSR Dogs"],
  [{ failure: 500 }, "Dog breeds | Gatsby SSR Dogs"],
])("titles the breed page after what it shows", (serverData, title) => {
  render(<Head {...({ serverData } as unknown as HeadProps<object, object, never>)} />)

  expect(document.title).toBe(title)
})
