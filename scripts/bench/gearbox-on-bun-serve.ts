/**
 * For `scripts/bench-api.ts --bun-serve` only, never shipped: GearBox's own app, services,
 * database and request log, as src/server.ts builds them, served by Bun.serve instead of
 * node:http (src/http-server.ts). The difference to the GearBox column is what the HTTP layer
 * costs. GearBox keeps node:http because Bun.serve answers oversized headers and malformed
 * requests itself, with empty bodies, outside the contract's JSON error shape. Expects a
 * migrated database. Env: PORT, and DATABASE_URL or GEARBOX_DATA_DIR, as the server reads them.
 */
import { createApp } from '../../src/app'
import { loadConfig } from '../../src/config'
import { createDatabase } from '../../src/db/database'
import { MAX_BODY_BYTES } from '../../src/http-server'
import { createLogger, queryObserver } from '../../src/observability'
import { createServices } from '../../src/services'

const config = loadConfig()
const log = createLogger(config.logLevel)
const db = createDatabase(config.database, { log: queryObserver(log, config.slowQueryMs) })
const services = createServices(db, { uploadDir: config.uploadDir, loginThrottle: config.loginThrottle, gearboxUrl: config.gearboxUrl })
const app = createApp({ services, trustProxy: config.trustProxy, log })
// The client address, where src/http-server.ts puts it (node:http's socket).
const server = Bun.serve({
  port: config.port,
  maxRequestBodySize: MAX_BODY_BYTES,
  fetch: (request, bun) => app.fetch(request, { incoming: { socket: { remoteAddress: bun.requestIP(request)?.address } } }),
})
process.on('SIGTERM', async () => {
  await server.stop()
  await db.destroy()
  process.exit(0)
})
