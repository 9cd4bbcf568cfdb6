import * as React from "react"
import type { GetServerData } from "gatsby"

const ErrorPage = () => <h1>Never shown</h1>

export default ErrorPage

export const getServerData: GetServerData<never> = async () => {
  throw new Error("getServerData failed on purpose")
}
