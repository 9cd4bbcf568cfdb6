// Global styles: Gatsby inlines them into the server-rendered HTML in production.
import "./src/styles/global.css"
