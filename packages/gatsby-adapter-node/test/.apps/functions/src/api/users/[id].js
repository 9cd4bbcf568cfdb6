// A function with a param in its path.
export default function user(req, res) {
  res.json({ id: req.params.id })
}
