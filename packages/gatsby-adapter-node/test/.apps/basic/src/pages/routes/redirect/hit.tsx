import * as React from "react"

const HitPage = () => <h1>Hit</h1>

export default HitPage
