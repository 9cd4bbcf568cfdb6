import * as React from "react"

const ServerErrorPage = () => <h1>Internal server error (custom)</h1>

export default ServerErrorPage
