/**
 * @jest-environment jest-fixed-jsdom
 */
import * as React from "react"
import type { HeadProps, PageProps } from "gatsby"
import { render, screen } from "@testing-library/react"
import SSRPage, { Head, type ServerData } from "../src/pages/ssr"

// The page reads only serverData; Gatsby passes the rest of PageProps, which these tests don't need.
function renderPage(serverData: ServerData | undefined) {
  return render(<SSRPage {...({ serverData } as PageProps<object, object, unknown, ServerData>)} />)
}

const DOG = "https://images.dog.ceo/breeds/hound-afghan/n02088094_1003.jpg"

test("shows the heading and a dog", () => {
  renderPage({ message: DOG })

  expect(screen.getByRole("heading", { level: 1, name: "SSR Page with Dogs" })).toBeInTheDocument()
  expect(screen.getByRole("img", { name: "Happy dog" })).toHaveAttribute("src", DOG)
})

test("links to the dog's breed", () => {
  renderPage({ message: DOG })

  expect(screen.getByRole("link", { name: "Afghan hound" })).toHaveAttribute("href", "/breeds/hound-afghan/")
})

test("links to another dog at an address of its own", () => {
  renderPage({ message: DOG })

  expect(screen.getByRole("link", { name: "Another dog" })).toHaveAttribute(
    "href",
    "/ssr/?after=n02088094_1003.jpg",
  )
})

test("reserves the image's space so the page does not jump when it loads", () => {
  renderPage({ message: DOG })

  const dog = screen.getByRole("img", { name: "Happy dog" })
  expect(dog).toHaveAttribute("width", "640")
  expect(dog).toHaveAttribute("height", "480")
})

test("shows a message and no image when there is no dog", () => {
  renderPage({})

  expect(screen.getByRole("status")).toHaveTextContent("No dog right now — try refreshing.")
  expect(screen.queryByRole("img")).not.toBeInTheDocument()
})

test("shows the message, not an error, when serverData is missing altogether", () => {
  renderPage(undefined)

  expect(screen.getByRole("status")).toHaveTextContent("No dog right now — try refreshing.")
  expect(screen.queryByRole("img")).not.toBeInTheDocument()
})

test("under gatsby develop, the message names the offline demo", () => {
  const nodeEnv = process.env.NODE_ENV
  process.env.NODE_ENV = "development"
  try {
    renderPage({})
  } finally {
    process.env.NODE_ENV = nodeEnv
  }

  expect(screen.getByText("npm run develop:offline")).toBeInTheDocument()
})

test("in production, the message leaves the offline demo out", () => {
  renderPage({})

  expect(screen.queryByText("npm run develop:offline")).not.toBeInTheDocument()
})

test("titles the page", () => {
  render(<Head {...({ location: { pathname: "/ssr/" } } as HeadProps)} />)

  expect(document.title).toBe("SSR Page with Dogs | Gatsby SSR Dogs")
})
