// @ts-check
// Lingering close, as nginx does it: an answer sent before the request's body has all arrived (a 405
// for a POST to a file, a 413 for a body too large) closes its connection, and Node would close it at
// once, with the rest of the body still coming: the client's system then resets the connection, and
// a client that reads only once it has sent its body (curl, most libraries) loses the answer. So the
// server sends the answer with `Connection: close`, then its end of the connection (FIN), then reads
// and discards what still comes, until the client stops sending or a bound in time or bytes is reached.
// A small body (a GET /healthz with a few bytes, a 405's form post) is not worth a new connection: Node
// reads and drops it after the answer, and the connection stays open for the next request, as nginx
// keeps it after discarding a body.

/**
 * @typedef {import("node:http").IncomingMessage} IncomingMessage
 * @typedef {import("node:http").ServerResponse} ServerResponse
 * @typedef {{ ms: number, bytes: number }} LingerBounds
 */

// nginx's lingering_timeout is 5 s; bytes past these go unread, and the connection is cut.
const LINGER = { ms: 5_000, bytes: 4 * 1024 * 1024 }
// A body of this many bytes at most, by its Content-Length, is read and dropped, and the connection kept.
const SMALL_BODY_BYTES = 64 * 1024

/**
 * For an answer about to be sent: if a large request body has not all arrived, the answer closes the
 * connection, and that close lingers.
 * @param {IncomingMessage} req @param {ServerResponse} res @param {LingerBounds} [bounds]
 */
function lingerIfBodyUnread(req, res, bounds = LINGER) {
  const { socket } = req
  const length = req.headers["content-length"]
  // A body sent in chunks has no length to call small.
  const large = length === undefined ? "transfer-encoding" in req.headers : Number(length) > SMALL_BODY_BYTES
  // (A request injected in a test has no socket to linger on.)
  if (!large || req.complete || typeof socket?.destroySoon !== "function") return
  res.setHeader("connection", "close")
  const cut = () => socket.destroy()
  let lingering = false
  let read = 0
  // Node would discard the rest of the body unseen; this reads it instead, to count what comes.
  req.on("data", (/** @type {Buffer} */ chunk) => {
    read += chunk.length
    if (lingering && read > bounds.bytes) cut()
  })
  // Node ends a `Connection: close` answer with socket.destroySoon(): this socket lingers instead,
  // unless the body has arrived by then.
  const destroySoon = socket.destroySoon.bind(socket)
  socket.destroySoon = () => {
    if (req.readableEnded) return destroySoon()
    lingering = true
    read = 0
    socket.end()
    const timer = setTimeout(cut, bounds.ms)
    socket.once("close", () => clearTimeout(timer))
    req.once("end", cut)
  }
}

module.exports = { lingerIfBodyUnread, LINGER }
