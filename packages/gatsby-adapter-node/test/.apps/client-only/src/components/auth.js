// A pretend login, kept in the browser as simple-auth keeps it.
const KEY = "fixtureUser"

export const isBrowser = () => typeof window !== "undefined"
export const getUser = () => (isBrowser() && JSON.parse(window.localStorage.getItem(KEY) ?? "null")) || null
export const isLoggedIn = () => getUser() !== null
export const logIn = (username) => window.localStorage.setItem(KEY, JSON.stringify({ username }))
export const logOut = () => window.localStorage.removeItem(KEY)
