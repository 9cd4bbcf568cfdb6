"use strict"

// sharp 0.35.5 (sharp-prebuilt: its prebuilt @img packages, from the npm registry alone), for Gatsby and
// for the Node server's images. In Gatsby's engines (webpack) it is required at run time from
// node_modules, not bundled: Gatsby 5's engine bundler moves sharp's native addon but not the libvips it
// loads (since sharp 0.33 a package of its own), which then fails to load. Gatsby's check of the engines
// refuses any such require; there, a sharp that throws if asked for an image stands in (its settings,
// which Gatsby's plugins call as they load, do nothing). docs/install-notes.md says more.
/* global __non_webpack_require__ */
let sharp
try {
  sharp =
    typeof __non_webpack_require__ === "function"
      ? __non_webpack_require__("sharp-prebuilt")
      : require("sharp-prebuilt")
} catch (error) {
  const refused = () => {
    throw error
  }
  sharp = new Proxy(refused, {
    get: (target, name) =>
      name in target || name === "__esModule" ? Reflect.get(target, name) : () => undefined,
  })
}
module.exports = sharp
