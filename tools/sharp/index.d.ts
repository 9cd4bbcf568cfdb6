// The types of the sharp this package re-exports, as CommonJS (`export =`), as sharp's own are.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- TypeScript's form for `export =`
import sharp = require("sharp-prebuilt")
export = sharp
