import * as React from "react"
import { Router } from "@reach/router"
import { Link, navigate } from "gatsby"
import { getUser, isLoggedIn, logIn, logOut } from "../components/auth"

function Login() {
  const submit = (event) => {
    event.preventDefault()
    logIn(new FormData(event.currentTarget).get("username"))
    navigate("/app/profile/")
  }
  return (
    <form onSubmit={submit}>
      <h1>Log in</h1>
      <label htmlFor="username">Username</label>
      <input id="username" name="username" required />
      <button type="submit">Log in</button>
    </form>
  )
}

function Profile() {
  const user = getUser()
  return (
    <>
      <h1>Profile of {user.username}</h1>
      <button type="button" onClick={() => (logOut(), navigate("/app/login/"))}>
        Log out
      </button>
    </>
  )
}

// A route that the visitor must be logged in to see; anyone else is sent to the login.
function PrivateRoute({ component: Component, location, ...rest }) {
  React.useEffect(() => {
    if (!isLoggedIn() && location.pathname !== "/app/login/") navigate("/app/login/")
  }, [location.pathname])
  return isLoggedIn() ? <Component {...rest} /> : null
}

function Missing({ uri }) {
  return <h1>Nothing in the app at {uri}</h1>
}

export default function App() {
  return (
    <main>
      <nav>
        <Link to="/">Home</Link>
      </nav>
      <Router basepath="/app">
        <PrivateRoute path="/profile" component={Profile} />
        <Login path="/login" />
        <Missing default />
      </Router>
    </main>
  )
}

export const Head = () => <title>App</title>
