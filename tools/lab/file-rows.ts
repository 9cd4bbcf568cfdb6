import { readFileSync } from "node:fs"
import { request } from "node:http"
import path from "node:path"
import os from "node:os"
import { writeBenchmarksSection } from "./benchmarks-doc"
import { CONNECTIONS, load, median, type Load } from "./load"
import { nginxInstalled, startNginx } from "./nginx"
import { startLabServer, type LabServer } from "./upstream-process"

// The bench's file rows: the files a page view asks for (the HTML of /, the page-data that every
// client-side navigation fetches, the framework's JavaScript), plain and for a client that accepts
// gzip, as every browser does, on each server in turn: 4 rounds of 2 s, the order reversed every
// other round. Most of a Gatsby site's requests are these.

const ROUNDS = Number(process.env.BENCH_FILE_ROUNDS ?? 4)
const ROUND_SECONDS = Number(process.env.BENCH_FILE_ROUND_SECONDS ?? 2)
const GZIP = ["accept-encoding=gzip"]

type FileCase = { name: string; path: string; headers: string[] }

function fileCases(site: string): FileCase[] {
  const home = readFileSync(path.join(site, "public/index.html"), "utf8")
  const framework = /src="(\/framework-[^"]+\.js)"/.exec(home)?.[1]
  if (!framework) throw new Error("public/index.html names no framework-*.js: has Gatsby renamed it?")
  const size = (file: string) =>
    `${Math.round(readFileSync(path.join(site, "public", file)).length / 1024)} KB`
  const files = [
    { name: "`/` (HTML)", path: "/" },
    { name: "`/page-data/app-data.json`", path: "/page-data/app-data.json" },
    { name: `framework JS (${size(framework)})`, path: framework },
  ]
  return files.flatMap(({ name, path: file }) => [
    { name: `${name}, plain`, path: file, headers: [] },
    { name: `${name}, gzip`, path: file, headers: GZIP },
  ])
}

// How a server answered a case: its status and Content-Encoding (the load generator reads neither).
function answer(url: string, headers: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const sent = Object.fromEntries(headers.map((header) => header.split("=")))
    request(url, { headers: sent }, (res) => {
      res.resume()
      resolve(
        `${res.statusCode}${res.headers["content-encoding"] ? ` ${res.headers["content-encoding"]}` : ""}`,
      )
    })
      .on("error", reject)
      .end()
  })
}

/**
 * The file rows of `servers` (name → URL; the first is held against the others), with nginx where it
 * is installed and the floor of node:http from memory (files-floor.ts) after them, into
 * docs/benchmarks.md.
 */
export async function benchFiles(site: string, servers: Record<string, string>): Promise<void> {
  const lab: Record<string, LabServer> = {}
  const nginx = nginxInstalled()
  try {
    if (nginx) lab["nginx (1 worker)"] = await startNginx(path.join(site, "public"))
    lab["node:http from memory"] = await startLabServer("files-floor.ts", { SITE_DIR: site })
    const all = {
      ...servers,
      ...Object.fromEntries(Object.entries(lab).map(([name, { url }]) => [name, url])),
    }
    const { table } = await fileRows(site, all)
    writeBenchmarksSection(
      "files",
      [
        `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench\`: ${os.cpus().length} cores, Node ${process.version}, ${CONNECTIONS} connections,`,
        `${ROUNDS} rounds of ${ROUND_SECONDS} s per case, the servers in turns; medians of the rounds in requests a second, with the`,
        "status and encoding each sent; the ratios are medians of the rounds' ratios.",
        nginx ? "" : "nginx is not installed here (`apt install nginx`), so its column is left out.",
        "",
        table,
      ].join("\n"),
    )
  } finally {
    for (const server of Object.values(lab)) server.stop()
  }
}

/**
 * servers: name → URL, in the table's order; the first is held against the others.
 * @returns the markdown table, and start ÷ each other server by case
 */
async function fileRows(
  site: string,
  servers: Record<string, string>,
): Promise<{ table: string; ratios: Record<string, number[]> }> {
  const names = Object.keys(servers)
  const [first, ...others] = names
  const lines = [
    `| file, request | ${names.join(" | ")} | ${others.map((other) => `${first} ÷ ${other}`).join(" | ")} |`,
    `| --- | ${names.map(() => "---:").join(" | ")} | ${others.map(() => "---:").join(" | ")} |`,
  ]
  const ratios: Record<string, number[]> = Object.fromEntries(others.map((other) => [other, []]))
  for (const fileCase of fileCases(site)) {
    const runs: Record<string, Load[]> = Object.fromEntries(names.map((name) => [name, []]))
    const answers: Record<string, string> = {}
    for (const name of names) {
      answers[name] = await answer(`${servers[name]}${fileCase.path}`, fileCase.headers)
      load(`${servers[name]}${fileCase.path}`, 1, "GET", fileCase.headers)
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of round % 2 ? names : [...names].reverse())
        runs[name].push(load(`${servers[name]}${fileCase.path}`, ROUND_SECONDS, "GET", fileCase.headers))
    }
    const rate = (name: string) => median(runs[name].map((run) => run.rps))
    const cells = names.map((name) => {
      const errors = runs[name].reduce((n, run) => n + run.errors, 0)
      return `${Math.round(rate(name)).toLocaleString("en")} (${answers[name]}${errors ? `, ${errors} errors` : ""})`
    })
    const each = others.map((other) => {
      const ratio = median(runs[first].map((run, i) => run.rps / runs[other][i].rps))
      ratios[other].push(ratio)
      return ratio.toFixed(2)
    })
    lines.push(`| ${fileCase.name} | ${cells.join(" | ")} | ${each.join(" | ")} |`)
    console.log(lines.at(-1))
  }
  lines.push(
    `| median of the cases | ${names.map(() => "").join(" | ")} | ${others.map((other) => median(ratios[other]).toFixed(2)).join(" | ")} |`,
  )
  return { table: lines.join("\n"), ratios }
}
