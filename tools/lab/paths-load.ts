import autocannon from "autocannon"

// A load of many addresses, at random, in a process of its own (big.ts runs it): autocannon with
// CONNECTIONS connections, each request to one of `count` addresses made from a pattern, where "#"
// stands for a number from 0 to count - 1. Prints { rps, statuses } as JSON.
//   tsx paths-load.ts <base url> <pattern> <count> <seconds>

const [base, pattern, count, seconds] = process.argv.slice(2)
const CONNECTIONS = 16

const result = await autocannon({
  url: base,
  connections: CONNECTIONS,
  duration: Number(seconds),
  requests: [
    {
      setupRequest: (request) => ({
        ...request,
        path: pattern.replace("#", String(Math.floor(Math.random() * Number(count)))),
      }),
    },
  ],
})
const statuses: Record<string, number> = {}
for (const key of ["1xx", "2xx", "3xx", "4xx", "5xx"] as const) if (result[key]) statuses[key] = result[key]
console.log(
  JSON.stringify({ rps: result.requests.average, statuses, errors: result.errors + result.timeouts }),
)
