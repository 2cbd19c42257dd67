# stripe-mode-gate: a small image holding Node and the bundled CLI only.
#   docker build -t stripe-mode-gate .
# NODE_IMAGE chooses the base of both stages (an official Node LTS image by default; any image with node and
# npm works, e.g. one built locally where no image registry is reachable).
ARG NODE_IMAGE=node:22-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The whole lockfile (esbuild is a dev dependency), without install scripts: this stage is thrown away, only
# the bundle it makes goes on.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.mjs scripts/build.mjs
COPY src src
RUN node scripts/build.mjs

FROM ${NODE_IMAGE} AS runtime
COPY --from=build /src/dist /app
ENV NODE_ENV=production
# Not root: the gate needs no privileges (watch reaches the Docker socket through its group or a mount).
USER 1000:1000
# For the watch sidecar: unhealthy when it cannot reach Docker or the database; a one-shot check reports nothing.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["node", "/app/cli.mjs", "health"]
ENTRYPOINT ["node", "/app/cli.mjs"]
CMD ["check"]
