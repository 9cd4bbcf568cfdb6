/**
 * @jest-environment jest-fixed-jsdom
 */
import * as React from "react"
import type { HeadProps, PageProps } from "gatsby"
import { render, screen } from "@testing-library/react"
import IndexPage, { Head } from "../src/pages/index"

test("links to the dog page", () => {
  render(<IndexPage {...({} as PageProps)} />)

  expect(screen.getByRole("link", { name: "Show me a dog" })).toHaveAttribute("href", "/ssr/")
})

test("links to the breed list", () => {
  render(<IndexPage {...({} as PageProps)} />)

  expect(screen.getByRole("link", { name: "Browse the breeds" })).toHaveAttribute("href", "/breeds/")
})

test("titles the page with the site's name", () => {
  render(<Head {...({ location: { pathname: "/" } } as HeadProps)} />)

  expect(document.title).toBe("Gatsby SSR Dogs")
})
