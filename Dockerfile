# Interchange on the official Bun image, as a non-root user.
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim
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
RUN mkdir -p /data && chown -R bun:bun /data
USER bun
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.PORT ?? 8080) + '/healthz'); process.exit(r.ok ? 0 : 1)"]
CMD ["bun", "run", "src/index.ts"]
