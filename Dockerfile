# Interchange on the official Bun image: a production install stage, then a runtime stage
# running as a non-root user with a health check.

# Install stage: exactly what `bun install` reads. patchedDependencies in package.json points
# into patches/, so the patch files must be here too ("patch file not found" otherwise).
# test/deploy/dockerfile.test.ts replays this stage's COPY lines and RUN on a clean directory.
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
COPY patches ./patches
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
# fetch allows 256 concurrent upstream requests unless told otherwise: with long streams that
# would be the gateway's real concurrency cap
ENV NODE_ENV=production \
    GATEWAY_DATA_DIR=/data \
    PORT=8080 \
    BUN_CONFIG_MAX_HTTP_REQUESTS=65535
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY drizzle ./drizzle
# /data holds the embedded database (when DATABASE_URL is unset) and the usage spool
RUN mkdir -p /data && chown -R 1000:1000 /data
# the image's "bun" user, by number so Kubernetes' runAsNonRoot can verify it
USER 1000:1000
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT ?? 8080) + '/healthz'); process.exit(r.ok ? 0 : 1)"]
CMD ["bun", "run", "src/index.ts"]
