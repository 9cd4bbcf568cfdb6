// @ts-check
// The answer at a request's address (routes.js's addressFinder), in Gatsby's order: the first of its
// candidates that answers, a redirect whose conditions hold, or the page, file or Gatsby Function
// there; with no route, a redirect that ignores case, or the 404 page (errors.js).
const { sendNotFound, plainError } = require("./errors")
const { sendTrailingSlashRedirect } = require("./redirects")
const routes = require("./routes")
const { FILE_METHODS } = require("./static")

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("fastify").FastifyReply} FastifyReply
 * @typedef {import("./routes").Address} Address
 * @typedef {import("./routes").Candidate} Candidate
 * @typedef {import("./metrics").AnswerKind} AnswerKind
 */

/**
 * @param {{ build: import("./build").LoadedBuild, table: Address[], finder: ReturnType<typeof routes.addressFinder>,
 *   images: ReturnType<typeof import("./images").imageLane>,
 *   redirect: ReturnType<typeof import("./redirects").redirectStage>,
 *   runFunction: ReturnType<typeof import("./functions").functionStage>,
 *   renderPage: ReturnType<typeof import("./engine").engineStage>["renderPage"],
 *   files: ReturnType<typeof import("./static").fileStore>,
 *   answeredAs: (request: FastifyRequest, kind: AnswerKind) => void }} stages
 *   answeredAs: told how each request is being answered, for the metrics
 */
function dispatcher({ build, table, finder, images, redirect, runFunction, renderPage, files, answeredAs }) {
  const { find } = finder
  const caselessRedirect = routes.caselessRedirects(table)

  /**
   * Every request the framework routes: to the address it is at, or the 404 page.
   * @param {FastifyRequest} request @param {FastifyReply} reply @returns {unknown}
   */
  const handle = (request, reply) => {
    const found = find(request.url)
    if (found === "too long") return plainError(reply, 414)
    if (found === "malformed") return plainError(reply, 400)
    // Gatsby's Image CDN and File CDN, where no file of public/ is the image asked for.
    if (!found && images.owns(request.url)) {
      answeredAs(request, "image")
      if (!FILE_METHODS.includes(request.method))
        return plainError(reply.header("allow", FILE_METHODS.join(", ")), 405)
      reply.hijack()
      return images.answer(request.raw, reply.raw)
    }
    if (!found) return notFound(request, reply)
    return dispatch(found.address, Object.assign(request, { params: found.params }), reply)
  }

  /**
   * @param {Address} address @param {FastifyRequest} request @param {FastifyReply} reply
   * @returns {Promise<unknown>}
   */
  const dispatch = async (address, request, reply) => {
    const [pathname, query] = routes.splitUrl(request.url)
    if (address.vary.length) reply.header("vary", address.vary.join(", "))
    for (const candidate of address.candidates) {
      if (candidate.kind === "redirect") {
        // Before the answer, which may be sent at once: a later candidate says otherwise.
        answeredAs(request, "redirect")
        const redirected = redirect(candidate, request, reply, pathname, query)
        if (redirected) return redirected
        continue
      }
      if (!routes.answersAt(candidate, pathname)) continue
      if (candidate.kind === "function") {
        answeredAs(request, "function")
        return runFunction(candidate.route, request, reply)
      }
      if (candidate.kind === "file" && !FILE_METHODS.includes(request.method))
        return plainError(reply.header("allow", FILE_METHODS.join(", ")), 405)
      const canonical =
        candidate.page && FILE_METHODS.includes(request.method)
          ? routes.canonicalPath(build.trailingSlash, pathname)
          : undefined
      if (canonical) {
        answeredAs(request, "redirect")
        return sendTrailingSlashRedirect(reply, `${canonical}${query}`)
      }
      if (candidate.kind === "engine") {
        // Until the cache says it had the page.
        answeredAs(request, "page")
        return renderPage(candidate.route, request, reply, {
          alone: address.candidates.length === 1 && !address.vary.length,
          vary: address.vary,
        })
      }
      const entry = files.entryOf(candidate, address.vary)
      // A file that the routes name and public/ lacks.
      answeredAs(request, entry ? "file" : "not-found")
      if (!entry) return sendNotFound(build, reply)
      reply.hijack()
      return files.send(entry, request.raw, reply.raw)
    }
    return notFound(request, reply)
  }

  // No route: a redirect that ignores case (/REDIRECT finds /redirect's), or the 404 page.
  /** @param {FastifyRequest} request @param {FastifyReply} reply @returns {unknown} */
  const notFound = (request, reply) => {
    const redirect = caselessRedirect(routes.splitUrl(request.url)[0])
    if (redirect)
      return dispatch(redirect.address, Object.assign(request, { params: redirect.params }), reply)
    answeredAs(request, "not-found")
    return sendNotFound(build, reply)
  }

  return { handle, notFound }
}

module.exports = { dispatcher }
