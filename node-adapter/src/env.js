// @ts-check
// Every setting of `npm start`, read from the environment in one place, each with a clear message for a
// value it cannot use.

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {{ port: number, host: string, accessLog: boolean, keepAliveMs: number, countryHeader: string | undefined,
 *   siteDir: string | undefined }}
 */
function readSettings(env) {
  // A container or platform sets PORT; 9000 is gatsby serve's.
  const port = Number(env.PORT || 9000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number from 0 to 65535, not "${env.PORT}"`)
  }
  // How long an idle keep-alive connection stays open. A load balancer that keeps idle connections to
  // this server (60 s for AWS's ALB) needs it longer than its own, or it may send a request on a
  // connection as this server closes it, and answer 502. Node's timers take at most 2^31 - 1 ms; past
  // that a timeout becomes 1 ms.
  const keepAliveMs = Number(env.KEEP_ALIVE_TIMEOUT_MS || 5000)
  if (!Number.isInteger(keepAliveMs) || keepAliveMs < 1 || keepAliveMs > 2 ** 31 - 1) {
    throw new Error(
      `KEEP_ALIVE_TIMEOUT_MS must be a whole number of milliseconds from 1 to ${2 ** 31 - 1}, not "${env.KEEP_ALIVE_TIMEOUT_MS}"`,
    )
  }
  // The header in which a CDN in front names the visitor's country (CF-IPCountry on Cloudflare), for
  // redirects with a country condition. Unset, no country is known, and those redirects never fire.
  const countryHeader = env.COUNTRY_HEADER || undefined
  if (countryHeader !== undefined && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(countryHeader)) {
    throw new Error(`COUNTRY_HEADER must be a header name, such as CF-IPCountry, not "${countryHeader}"`)
  }
  return {
    port,
    // Every interface by default, as a container needs; HOST=127.0.0.1 keeps it to this machine.
    host: env.HOST || "0.0.0.0",
    // Off by default, as a load balancer's own access log usually is.
    accessLog: /^(1|true|on|yes)$/i.test(env.ACCESS_LOG ?? ""),
    keepAliveMs,
    countryHeader,
    // The site's folder, when it is not the one above node-adapter/. A setting, not an argument: a
    // wrapper (lab/cluster.js, a process manager) may pass arguments of its own.
    siteDir: env.SITE_DIR || undefined,
  }
}

module.exports = { readSettings }
