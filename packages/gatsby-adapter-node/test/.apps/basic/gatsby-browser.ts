import type { GatsbyBrowser } from "gatsby"

// The suite waits for this mark before it clicks a link: before hydration a click is a full page load.
export const onInitialClientRender: GatsbyBrowser["onInitialClientRender"] = () => {
  document.documentElement.dataset.hydrated = "true"
}
