import * as React from "react"

const DsgPage = () => <h1>DSG</h1>

export default DsgPage

export async function config(): Promise<() => { defer: boolean }> {
  return () => ({ defer: true })
}
