# The site in a container: built in one stage, and run in the next from the standalone folder alone
# (packages/gatsby-adapter-node/README.md, Deploying). Build and run:
#   docker build -t gatsby-ssr-dogs .
#   docker run --rm -p 9000:9000 gatsby-ssr-dogs          # http://localhost:9000/ssr/
# Both stages use the same image, so that the native modules (lmdb) the build copies are the ones that
# run. __tests__/e2e/deploy.spec.ts runs the last stage's command on what the build makes.

FROM node:24-slim AS build
WORKDIR /app
ENV GATSBY_TELEMETRY_DISABLED=1
# The dependencies first, so that a change to the site alone reuses this layer.
COPY package.json package-lock.json ./
COPY tools/sharp ./tools/sharp
COPY packages/gatsby-adapter-node/package.json ./packages/gatsby-adapter-node/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production PORT=9000 HOST=0.0.0.0
# Shorter than the 10 s that `docker stop` waits before SIGKILL (raise both together: --stop-timeout, or
# compose's stop_grace_period, must stay longer).
ENV SHUTDOWN_DEADLINE_MS=8000
# Owned by the user that runs it, as Next.js's Dockerfile has it: Gatsby's SSR engine writes beside its
# datastore, and where it cannot, the file-system wrapper it falls back on fails on Node 24 ("Cannot
# convert undefined or null to object", in .cache/page-ssr/lambda.js).
COPY --from=build --chown=node:node /app/.cache/node-server/standalone ./
USER node
EXPOSE 9000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((res) => process.exit(res.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server.js"]
