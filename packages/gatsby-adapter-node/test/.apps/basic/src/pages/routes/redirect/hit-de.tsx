import * as React from "react"

const HitDePage = () => <h1>Hit DE</h1>

export default HitDePage
