/**
 * @jest-environment jest-fixed-jsdom
 */
import * as React from "react"
import type { PageProps } from "gatsby"
import { render, screen } from "@testing-library/react"
import NotFoundPage from "../src/pages/404"
import ServerErrorPage from "../src/pages/500"

test("the 404 page says the page is missing and links home", () => {
  render(<NotFoundPage {...({} as PageProps)} />)

  expect(screen.getByRole("heading", { level: 1, name: "Page not found" })).toBeInTheDocument()
  expect(screen.getByRole("link", { name: "Go home" })).toHaveAttribute("href", "/")
})

test("the 500 page asks the person to try again and links home", () => {
  render(<ServerErrorPage {...({} as PageProps)} />)

  expect(screen.getByRole("heading", { level: 1, name: "Something went wrong" })).toBeInTheDocument()
  expect(screen.getByRole("status")).toHaveTextContent("Try refreshing in a moment.")
  expect(screen.getByRole("link", { name: "Go home" })).toHaveAttribute("href", "/")
})
