import * as React from "react"

const Footer = () => <footer>A footer from a Slice</footer>

export default Footer
