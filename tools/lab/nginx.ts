import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { freePort } from "test-harness"
import type { LabServer } from "./upstream-process"

// nginx serving a folder as it is tuned to serve files in front of Node: one worker (the Node server is
// one process), sendfile, the .gz files beside each text file for clients that accept gzip (the
// adapter's build writes them), and open_file_cache so that a request makes no system call to find
// its file. Debian's nginx (apt install nginx); undefined where none is installed.

export function nginxInstalled(): boolean {
  return spawnSync("nginx", ["-v"]).status === 0
}

export async function startNginx(root: string): Promise<LabServer> {
  const port = await freePort()
  const dir = mkdtempSync(path.join(os.tmpdir(), "lab-nginx-"))
  const config = path.join(dir, "nginx.conf")
  writeFileSync(
    config,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${dir}/body;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  gzip_static on;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`,
  )
  const child = spawn("nginx", ["-p", dir, "-c", config], { stdio: ["ignore", "ignore", "inherit"] })
  const url = `http://127.0.0.1:${port}`
  for (let tries = 0; ; tries++) {
    try {
      await fetch(`${url}/`)
      break
    } catch (error) {
      if (tries > 100 || child.exitCode !== null) throw new Error(`nginx did not start: ${String(error)}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return {
    url,
    pid: child.pid!,
    stop: () => {
      child.kill("SIGQUIT")
      child.once("exit", () => rmSync(dir, { recursive: true, force: true }))
    },
  }
}
