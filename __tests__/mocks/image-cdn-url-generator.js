// A host's image generator, as an adapter names one to Gatsby (imageCDNUrlGeneratorModulePath), for
// the tests of src/dog-picture.ts: its addresses say what they were asked.
module.exports = (source, { width, format, quality }, pathPrefix) =>
  `${pathPrefix}/cdn/${format}/${width}/${quality}/${source.filename}?u=${encodeURIComponent(source.url)}`
