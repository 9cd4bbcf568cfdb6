import * as React from "react"

const ExistingPage = () => <h1>Existing</h1>

export default ExistingPage
