import * as React from "react"

const NotFoundPage = () => <h1>Page not found (custom)</h1>

export default NotFoundPage
