import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"

// One row of load: autocannon in a process of its own, so that the load generator's work is not the
// server's.

export const CONNECTIONS = 16
const autocannonCli = createRequire(import.meta.url).resolve("autocannon/autocannon.js")

export type Load = { rps: number; p50: number; p99: number; errors: number; statuses: Record<string, number> }

// headers: "name=value", as autocannon takes them.
export function load(url: string, seconds: number, method = "GET", headers: string[] = []): Load {
  const run = spawnSync(
    process.execPath,
    [
      autocannonCli,
      "--json",
      "-c",
      String(CONNECTIONS),
      "-d",
      String(seconds),
      "-m",
      method,
      ...headers.flatMap((header) => ["-H", header]),
      url,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  )
  const result = JSON.parse(run.stdout)
  const statuses: Record<string, number> = {}
  for (const key of ["1xx", "2xx", "3xx", "4xx", "5xx"]) if (result[key]) statuses[key] = result[key]
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    statuses,
  }
}

export const sum = (numbers: number[]): number => numbers.reduce((a, b) => a + b, 0)
export function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b)
  const half = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2
}
