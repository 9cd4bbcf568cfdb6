import * as React from "react"

const HitUsPage = () => <h1>Hit US</h1>

export default HitUsPage
