# stripe-mode-gate: a small image holding Node and the bundled CLI only.
#   docker build -t stripe-mode-gate .
# Releases are built by .github/workflows/release.yml for linux/amd64 and linux/arm64, with VERSION and
# REVISION set. NODE_IMAGE chooses the base of both stages (an official Node LTS image by default; any image
# with node and npm works, e.g. one built locally where no image registry is reachable).
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
# The version in package.json (scripts/sync-version.mjs keeps this default equal to it) and the commit.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="stripe-mode-gate" \
      org.opencontainers.image.description="Keeps Hi.Events from starting with Stripe ids created under another Stripe configuration" \
      org.opencontainers.image.source="https://github.com/stripe-mode-gate/stripe-mode-gate" \
      org.opencontainers.image.url="https://github.com/stripe-mode-gate/stripe-mode-gate#readme" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /src/dist /app
ENV NODE_ENV=production
# Not root: the gate needs no privileges (watch reaches the Docker socket through its group or a mount).
USER 1000:1000
# For the watch sidecar: unhealthy when it cannot reach Docker or the database; a one-shot check reports nothing.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["node", "/app/cli.mjs", "health"]
ENTRYPOINT ["node", "/app/cli.mjs"]
CMD ["check"]
