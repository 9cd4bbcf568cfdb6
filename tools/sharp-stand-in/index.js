"use strict"

// Gatsby loads sharp when it starts, but this site never processes an image.
// If something does ask for an image, say so plainly instead of failing somewhere deep.
function sharp() {
  throw new Error(
    "sharp is replaced by ./sharp-stand-in in this project, because its install downloads libvips. " +
      "To process images (gatsby-plugin-sharp, gatsby-plugin-image), remove the stand-in: see README.md, 'Why sharp is replaced'.",
  )
}

// Gatsby's engines call these settings as soon as they load (gatsby-sharp, and its shim in
// gatsby/dist/schema/graphql-engine); they process nothing, so they may do nothing.
sharp.simd = () => false
sharp.concurrency = () => 0

module.exports = sharp
