import { expect, test } from "../sites"

// Mirrors Gatsby's adapter suite: dsg.cy.ts. Deferred pages, rendered by the engine on request; and,
// beyond it, kept by the server for the life of the build.

test("renders a deferred page", async ({ page, at }) => {
  const response = await page.goto(at("/routes/dsg/static"))

  expect(response?.status()).toBe(200)
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("DSG")
})

test("renders a deferred page with its page query's data", async ({ page, at }) => {
  await page.goto(at("/routes/dsg/graphql-query"))

  await expect(page.getByTestId("title")).toHaveText("Node adapter fixture")
})

test("keeps a deferred page once rendered, and answers it from memory after that", async ({
  request,
  at,
}) => {
  await request.get(at("/routes/dsg/static"))

  const response = await request.get(at("/routes/dsg/static"))

  expect(response.status()).toBe(200)
  expect(response.headers().age).toMatch(/^\d+$/)
})
