// @ts-check
// The module that Gatsby takes as `fileCDNUrlGeneratorModulePath`: its export is the generator of File
// CDN addresses (Gatsby requires one module a generator; the image one is image-urls.js).
module.exports = require("./image-urls").generateFileUrl
