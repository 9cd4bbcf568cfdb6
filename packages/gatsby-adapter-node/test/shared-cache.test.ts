import { createClient } from "@redis/client"
import { startRedis, type RunningRedis } from "test-harness"
import { createSharedCache, decode, encode, MAX_PENDING } from "../src/shared-cache"

// The fleet's store (src/shared-cache.js) on its own, with a real redis-server, where a server's
// requests cannot reach: a store that answers late, or nothing at all. fleet.test.ts runs servers on it.

jest.setTimeout(30_000)

let redis: RunningRedis
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(() => redis.stop())

const caches: Array<ReturnType<typeof createSharedCache>> = []
afterEach(async () => {
  redis.thaw()
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

async function connected(timeoutMs: number) {
  const failures: string[] = []
  const cache = createSharedCache({
    url: redis.url,
    timeoutMs,
    buildId: "shared-cache-test",
    onFailure: (reason) => failures.push(reason),
    onBack: () => {},
  })
  caches.push(cache)
  // Until it has connected: a call before then is a miss.
  await waitFor(async () => (await cache.lock("ready?")) !== undefined)
  return { cache, failures }
}

async function storeHas(key: string): Promise<boolean> {
  const store = createClient({ url: redis.url })
  await store.connect()
  try {
    return (await store.exists(key)) === 1
  } finally {
    store.destroy()
  }
}

test("releases a lock that the store gave only after the server stopped waiting for it", async () => {
  const { cache } = await connected(50)
  redis.freeze()

  const token = await cache.lock("/late/")
  redis.thaw()

  expect(token).toBeUndefined()
  // Released as soon as the store's late yes arrives, not gone by itself 10 s later.
  await waitFor(async () => !(await storeHas("gatsby-adapter-node:shared-cache-test:lock:/late/")), 1000)
})

test("asks a store that answers nothing no more than its bound of calls at once; past it, a miss at once", async () => {
  const { cache } = await connected(60_000)
  redis.freeze()

  const settled: boolean[] = Array(MAX_PENDING + 44).fill(false)
  const calls = settled.map((_, i) => cache.get(`/pending-${i}/`).then(() => (settled[i] = true)))
  await new Promise((resolve) => setTimeout(resolve, 200))

  expect(settled.filter(Boolean)).toHaveLength(44)
  expect(cache.pending().calls).toBe(MAX_PENDING)
  redis.thaw()
  await Promise.all(calls)
  expect(cache.pending().calls).toBe(0)
})

test("still counts the calls it gave up waiting for until the store answers them", async () => {
  const { cache, failures } = await connected(50)
  redis.freeze()

  await Promise.all(Array.from({ length: 10 }, (_, i) => cache.get(`/given-up-${i}/`)))

  expect(failures.filter((reason) => reason === "timeout")).toHaveLength(10)
  expect(cache.pending().calls).toBe(10)
  redis.thaw()
  await waitFor(() => cache.pending().calls === 0)
})

test("closes a connection on which the store said nothing for seconds, and with it the calls waiting", async () => {
  const { cache, failures } = await connected(50)
  redis.freeze()
  await Promise.all(Array.from({ length: 10 }, (_, i) => cache.get(`/waiting-${i}/`)))

  await waitFor(() => cache.pending().calls === 0, 15_000)

  expect(failures).toContain("timeout")
})

test("reads what it stored, and refuses a value cut short or not its own", () => {
  const stored = {
    rendered: { status: 200, headers: { "content-type": "text/html" }, body: Buffer.from("<h1>Dogs</h1>") },
    storedAt: 1,
    policy: undefined,
  }
  const value = encode(stored)

  expect(decode(value).rendered.body.toString()).toBe("<h1>Dogs</h1>")
  expect(() => decode(value.subarray(0, value.length - 1))).toThrow()
  expect(() => decode(Buffer.from("not a page"))).toThrow()
  expect(() => decode(Buffer.from("\u0000\u0000\u0000\u0002{}"))).toThrow()
})

// Until the condition holds, for at most 20 s (or as long as said).
async function waitFor(condition: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await condition());) {
    if (Date.now() > deadline) throw new Error(`still not so after ${ms} ms: ${condition}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
