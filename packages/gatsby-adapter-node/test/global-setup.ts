import { rmSync } from "node:fs"
import path from "node:path"

// Every run builds the fixture site afresh, in each configuration (fixture.ts).
export default function clearBuilds(): void {
  rmSync(path.join(__dirname, ".builds"), { recursive: true, force: true })
}
