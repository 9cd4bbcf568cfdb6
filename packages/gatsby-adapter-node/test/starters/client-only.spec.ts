import { expect, test, waitForHydration } from "../sites"

// Gatsby's simple-auth example's shape, in Chromium: routes that exist only in the browser.

test("a direct visit to a private route of the app lands on its login", async ({ page }) => {
  const response = await page.goto("/app/profile/")

  expect(response?.status()).toBe(200)
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible()
  await expect(page).toHaveURL(/\/app\/login\/$/)
})

test("logging in shows the profile, and the login stays across a reload", async ({ page }) => {
  await page.goto("/app/login/")
  await waitForHydration(page)

  await page.getByLabel("Username").fill("chani")
  await page.getByRole("button", { name: "Log in" }).click()
  await expect(page.getByRole("heading", { name: "Profile of chani" })).toBeVisible()
  await page.reload()

  await expect(page.getByRole("heading", { name: "Profile of chani" })).toBeVisible()
})

test("a path of the app that none of its routes has shows the app's own answer", async ({ page }) => {
  const response = await page.goto("/app/some/deep/path/")

  expect(response?.status()).toBe(200)
  await expect(page.getByRole("heading", { name: "Nothing in the app at /app/some/deep/path" })).toBeVisible()
})
