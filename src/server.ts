import { createApp } from './app'
import { ConfigError, loadConfig } from './config'
import { createDatabase } from './db/database'
import { migrateToLatest } from './db/migrator'
import { createServices } from './services'

function fail(message: string): never {
  console.error(`gearbox: ${message}`)
  process.exit(1)
}

let config: ReturnType<typeof loadConfig>
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) fail(error.message)
  throw error
}

const db = createDatabase(config.database)
const where = config.database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.database.dataDir}`
if (config.migrateOnStart) {
  try {
    await migrateToLatest(db)
  } catch (error) {
    fail(`could not migrate ${where}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

const app = createApp({ services: createServices(db, { uploadDir: config.uploadDir }) })
const server = Bun.serve({ port: config.port, fetch: app.fetch, maxRequestBodySize: 8 * 1024 * 1024 })
console.log(`GearBox listening on http://localhost:${server.port} (database: ${where})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    await server.stop()
    await db.destroy()
    process.exit(0)
  })
}
