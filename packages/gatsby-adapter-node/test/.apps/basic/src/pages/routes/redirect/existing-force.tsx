import * as React from "react"

const ExistingForcePage = () => <h1>Existing, forced away</h1>

export default ExistingForcePage
