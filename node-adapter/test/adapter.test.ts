import type { IAdapter, Reporter, RoutesManifest } from "gatsby"
import nodeAdapter from ".."

// The adapter at the end of gatsby build, with the manifest Gatsby would hand it.

test("stops the build, saying which, for a redirect condition the server cannot check", async () => {
  const adapter: IAdapter = nodeAdapter()
  const panic = jest.fn((message: string) => {
    throw new Error(message)
  })
  const routesManifest = [
    {
      type: "redirect",
      path: "/members/",
      toPath: "/login/",
      status: 302,
      headers: [],
      conditions: { role: ["admin"] },
    },
  ] as unknown as RoutesManifest

  await expect(async () =>
    adapter.adapt({
      routesManifest,
      functionsManifest: [],
      headerRoutes: [],
      trailingSlash: "always",
      pathPrefix: "",
      remoteFileAllowedUrls: [],
      reporter: { panic, info: jest.fn(), warn: jest.fn() } as unknown as Reporter,
    }),
  ).rejects.toThrow(
    "node-adapter: the Node server can check the redirect conditions country and language, not those of these redirects: /members/ (role).",
  )
})
