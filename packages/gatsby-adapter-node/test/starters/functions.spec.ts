import { expect, test, waitForHydration } from "../sites"

// Gatsby's functions-basic-form, in Chromium: a form sent to a Gatsby Function as JSON.

test("a form sent to a Gatsby Function gets its answer back on the page", async ({ page }) => {
  await page.goto("/")
  await waitForHydration(page)

  await page.getByLabel("Name").fill("Paul")
  await page.getByRole("button", { name: "Send" }).click()

  await expect(page.getByText("The function got Paul")).toBeVisible()
})

test("a GET to a function that reads req.body gets its answer, as under gatsby develop", async ({
  request,
}) => {
  const response = await request.get("/api/form")

  expect(response.status()).toBe(200)
  expect(await response.json()).toEqual({ method: "GET", name: null, body: {} })
})

test("malformed JSON gets 400 before the function runs, as under gatsby develop", async ({ request }) => {
  const response = await request.post("/api/form", {
    headers: { "content-type": "application/json" },
    data: '{"name":',
  })

  expect(response.status()).toBe(400)
})
