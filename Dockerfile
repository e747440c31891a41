# GearBox: Bun comes from npm like everything else, so the image needs only Node.js to install.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json kysely.config.ts ./
COPY migrations ./migrations
COPY src ./src
COPY scripts ./scripts
# Without DATABASE_URL the embedded database lives here; uploads default to /data/uploads.
ENV GEARBOX_DATA_DIR=/data PORT=3000
# The server runs as node: the volume's mount point must be node's, or nothing can be written there.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 3000
USER node
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["npm", "start"]
