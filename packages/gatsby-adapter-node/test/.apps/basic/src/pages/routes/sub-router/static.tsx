import * as React from "react"

// A static sibling of the wildcard, which wins over it.
const SubRouterStatic = () => <pre data-testid="dom-marker">[client-only-path] static-sibling</pre>

export default SubRouterStatic
