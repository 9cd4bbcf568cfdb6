import { setupServer } from "msw/node"
import { handlers } from "./handlers"

// Intercepts fetch in the unit tests, answering with the dog API handlers.
export const server = setupServer(...handlers)
