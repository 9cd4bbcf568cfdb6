import * as React from "react"

// A static page that wins over the matchPath beside it.
const PrioritizedStatic = () => <h1 data-testid="title">client-only/prioritize static</h1>

export default PrioritizedStatic
