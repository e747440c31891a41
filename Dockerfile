# GearBox on the official Bun image: Bun runs the TypeScript directly; no Node.js, no npm.
FROM oven/bun:1
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The postinstall script (patch-package) applies these to node_modules: postgres.js's fix for
# lost connections (README, "Database outages").
COPY patches ./patches
# Production dependencies from the lockfile (kysely-ctl is one: the migrate:* commands run
# in the container). The `bun` npm package is for `npm start` without Bun; the image has its own.
RUN bun install --production --frozen-lockfile \
 && rm -rf node_modules/bun node_modules/@oven node_modules/.bin/bun node_modules/.bin/bunx
COPY tsconfig.json kysely.config.ts ./
COPY migrations ./migrations
COPY src ./src
COPY scripts ./scripts
# Without DATABASE_URL the embedded database lives here; uploads default to /data/uploads.
ENV GEARBOX_DATA_DIR=/data PORT=3000
# The server runs as bun: the volume's mount point must be bun's, or nothing can be written there.
RUN mkdir -p /data && chown bun:bun /data
VOLUME ["/data"]
EXPOSE 3000
USER bun
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD bun -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Bun itself, not npm: SIGTERM from `docker stop` reaches the server, which stops gracefully.
CMD ["bun", "src/server.ts"]
