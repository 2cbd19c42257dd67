# stripe-mode-gate: a small image holding Node and the bundled CLI only.
#   docker build -t stripe-mode-gate .
# NODE_IMAGE chooses the base of both stages (an official Node LTS image by default; any image with node and
# npm works, e.g. one built locally where no image registry is reachable).
ARG NODE_IMAGE=node:22-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Only what the bundle is made of: the runtime dependencies and esbuild (no test tooling, no install scripts).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm install --no-save --ignore-scripts --no-audit --no-fund esbuild@0.28.2
COPY scripts/build.mjs scripts/build.mjs
COPY src src
RUN node scripts/build.mjs

FROM ${NODE_IMAGE} AS runtime
COPY --from=build /src/dist /app
ENV NODE_ENV=production
# Not root: the gate needs no privileges (watch reaches the Docker socket through its group or a mount).
USER 1000:1000
ENTRYPOINT ["node", "/app/cli.mjs"]
CMD ["check"]
