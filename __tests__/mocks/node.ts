import { setupServer } from "msw/node"
import { handlers } from "./handlers"

// Intercepts the unit tests' HTTP requests (node:http, as src/upstream/client.ts makes them), answering with the dog
// API handlers.
export const server = setupServer(...handlers)
