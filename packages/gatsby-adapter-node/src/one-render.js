// @ts-check
// One render for the requests that come together for a page that may be kept, here and across the
// fleet (Varnish's request coalescing; nginx's proxy_cache_lock across servers): a request waits for
// the render in flight and is answered from what it kept; the server that takes the store's lock
// renders, the others wait for its page. A stale page is renewed once across the fleet while it is sent.
// When a render fails (5xx, or a throw), one of the waiting requests renders again and the others wait
// for it, rather than all at once against an API that just failed; when that one fails too, they get
// its answer, so that a page that keeps failing costs two renders a batch. Past WAIT_MS, and for a page
// that is not kept, a request renders itself.

/**
 * @typedef {import("fastify").FastifyRequest} FastifyRequest
 * @typedef {import("./routes").FunctionRoute} FunctionRoute
 * @typedef {import("./response-cache").Rendered} Rendered
 * @typedef {import("./response-cache").Hit} Hit
 * @typedef {import("./kept-pages").Page} Page
 * @typedef {{ hit: Hit } | { rendered: Rendered, storeMs: number }} Answer storeMs: how long it waited
 *   for the fleet's store
 */

// How long, at most, a request waits for the renders of others before it renders itself (as long as
// it waits for another server's, shared-cache.js).
const WAIT_MS = 5_000

/**
 * @param {{ render: (route: FunctionRoute, request: FastifyRequest, method: string) => Promise<Rendered>,
 *   pages: ReturnType<typeof import("./kept-pages").keptPages>,
 *   shared?: import("./shared-cache").SharedCache }} options
 *   render: the engine's render (render.js); pages: where pages are kept (kept-pages.js); shared: the
 *   fleet's store, whose lock makes one render across the fleet
 */
function oneRender({ render, pages, shared }) {
  /** @type {Map<string, Promise<Answer>>} the renders in flight that other requests may wait for */
  const rendering = new Map()

  /**
   * A render of this request's own, kept where the cache may keep it (a GET).
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   */
  const renderAlone = async (route, request, key, page) => {
    const rendered = await render(route, request, request.method)
    if (request.method === "GET") pages.keep(route, key, request, rendered, page)
    return rendered
  }

  /**
   * Renders a page once across the fleet where there is a store: the server that takes its lock
   * renders and keeps it, the others wait for it (and render anyway past the wait, or when the store
   * cannot say).
   * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
   * @returns {Promise<Answer>}
   */
  const renderOnce = async (route, request, key, page) => {
    const started = performance.now()
    let token = shared ? await shared.lock(key) : undefined
    /** @type {import("./shared-cache").Found | undefined} */
    let kept
    if (shared && token === "held") {
      const waited = await shared.waitFor(key)
      if (waited.kind === "kept") kept = waited
      token = waited.kind === "leader" ? waited.token : undefined
    } else if (shared && token) {
      // A server that rendered it may have kept it and let the lock go between this one's look-up and
      // its lock: looked up once more, now that nobody else renders it.
      kept = await shared.get(key)
    }
    try {
      const hit = kept?.kind === "kept" ? pages.fromStore(key, kept.stored, request) : undefined
      if (hit) return { hit }
      const storeMs = shared ? performance.now() - started : 0
      return { rendered: await renderAlone(route, request, key, page), storeMs }
    } finally {
      if (token && token !== "held") shared?.release(key, token)
    }
  }

  return {
    renderAlone,

    /**
     * One render for the requests that ask for a page together (a GET of a page that may be kept).
     * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
     * @returns {Promise<Answer>}
     */
    async renderTogether(route, request, key, page) {
      const until = Date.now() + WAIT_MS
      let failedBefore = false
      for (let leader = rendering.get(key); leader; leader = rendering.get(key)) {
        const outcome = await settledWithin(leader, until - Date.now())
        const hit = pages.fromMemory(key, request)
        if (hit) return { hit }
        const failed =
          outcome &&
          ("error" in outcome || ("rendered" in outcome.answer && outcome.answer.rendered.status >= 500))
        if (!failed || pages.neverKept(key))
          return { rendered: await renderAlone(route, request, key, page), storeMs: 0 }
        if (failedBefore) {
          if ("error" in outcome) throw outcome.error
          return outcome.answer
        }
        failedBefore = true
      }
      const own = renderOnce(route, request, key, page)
      rendering.set(key, own)
      try {
        return await own
      } finally {
        rendering.delete(key)
      }
    },

    /**
     * Renews a stale page while it is sent: once across the fleet, as renderOnce, but nobody waits for
     * it, and a render that fails (5xx) leaves the stale page until its window ends.
     * @param {FunctionRoute} route @param {FastifyRequest} request @param {string} key @param {Page} page
     */
    async revalidate(route, request, key, page) {
      const mine = pages.keptAt(key)
      // Another server may have renewed it already: looked up before the lock, and once more with it
      // (a server that renewed it may have let its lock go in between).
      const renewedElsewhere = async () => {
        const found = shared ? await shared.get(key) : undefined
        return found?.kind === "kept" && pages.renewed(key, found.stored, mine)
      }
      if (await renewedElsewhere()) return
      const token = shared ? await shared.lock(key) : undefined
      if (token === "held") return
      try {
        if (token && (await renewedElsewhere())) return
        const rendered = await render(route, request, "GET")
        if (rendered.status < 500) pages.keep(route, key, request, rendered, page)
      } finally {
        if (token) shared?.release(key, token)
      }
    },
  }
}

/**
 * How a render settled within ms: its answer, or what it threw; undefined if it had not.
 * @param {Promise<Answer>} promise @param {number} ms
 * @returns {Promise<{ answer: Answer } | { error: unknown } | undefined>}
 */
async function settledWithin(promise, ms) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer
  try {
    return await Promise.race([
      promise.then(
        (answer) => ({ answer }),
        (error) => ({ error }),
      ),
      new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, ms), undefined))),
    ])
  } finally {
    clearTimeout(timer)
  }
}

module.exports = { oneRender }
