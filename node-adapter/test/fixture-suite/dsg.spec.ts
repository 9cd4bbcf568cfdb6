import { expect, test } from "../fixture"

// Mirrors Gatsby's adapter suite: dsg.cy.ts. Deferred pages, rendered by the engine on request.

test("renders a deferred page", async ({ page, at }) => {
  const response = await page.goto(at("/routes/dsg/static"))

  expect(response?.status()).toBe(200)
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("DSG")
})

test("renders a deferred page with its page query's data", async ({ page, at }) => {
  await page.goto(at("/routes/dsg/graphql-query"))

  await expect(page.getByTestId("title")).toHaveText("Node adapter fixture")
})
