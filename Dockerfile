# genqueue: one image for the API, the worker and the simulator (the command picks the process).
#   docker build -t genqueue .
#   docker run genqueue                      # API (default command)
#   docker run genqueue node dist/worker.js  # worker (npm run start:worker runs its TypeScript instead)
# docker-compose.yml runs them as separate services from this image.

# --- build: every dependency, the Prisma client, the dashboard ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
# package manifests first, so the install layer is reused while only sources change
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/simulator/package.json apps/simulator/
COPY apps/dashboard/package.json apps/dashboard/
COPY packages/config/package.json packages/config/
COPY packages/core/package.json packages/core/
COPY packages/db/package.json packages/db/
COPY packages/queue/package.json packages/queue/
COPY packages/storage/package.json packages/storage/
COPY packages/testing/package.json packages/testing/
COPY packages/upstream/package.json packages/upstream/
COPY packages/webhooks/package.json packages/webhooks/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# the generated Prisma client, the dashboard build and the process bundles (what postinstall does on a checkout)
RUN node scripts/prisma-generate.mjs && node scripts/build-dashboard.mjs && node scripts/build-processes.mjs
# runtime needs no dev dependencies (prisma's WASM migrator and the clients are dependencies; the
# processes run their bundles, dist/*.js, with node)
RUN npm prune --omit=dev --no-audit --no-fund --ignore-scripts

# --- runtime: slim, non-root ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    STORAGE_DIR=/data/artifacts
WORKDIR /app
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data/artifacts && chown -R node:node /data
USER node
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--enable-source-maps", "dist/api.js"]
