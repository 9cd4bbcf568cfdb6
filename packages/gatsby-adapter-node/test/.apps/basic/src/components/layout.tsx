import * as React from "react"
import { Slice } from "gatsby"

export const Layout = ({ children }: { children: React.ReactNode }) => (
  <>
    <main>{children}</main>
    <Slice alias="footer" />
  </>
)
