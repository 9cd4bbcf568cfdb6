import * as React from "react"

// As functions-basic-form's page: a form whose fields go to the function as JSON.
export default function FormPage() {
  const [answer, setAnswer] = React.useState(null)
  const submit = async (event) => {
    event.preventDefault()
    const fields = Object.fromEntries(new FormData(event.currentTarget))
    const res = await fetch("/api/form", {
      method: "POST",
      body: JSON.stringify(fields),
      headers: { "content-type": "application/json" },
    })
    setAnswer(await res.json())
  }
  return (
    <main>
      <h1>Send a form to a Gatsby Function</h1>
      <form onSubmit={submit}>
        <label htmlFor="name">Name</label>
        <input id="name" name="name" type="text" required />
        <button type="submit">Send</button>
      </form>
      {answer && <output>The function got {answer.name}</output>}
    </main>
  )
}

export const Head = () => <title>Functions</title>
