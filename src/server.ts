import { createApp } from './app'
import { loadConfig } from './config'
import { createDatabase } from './db/database'
import { migrateToLatest } from './db/migrator'
import { listen } from './http-server'
import { createServices } from './services'

function fail(text: string): never {
  console.error(`gearbox: ${text}`)
  process.exit(1)
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

let config: ReturnType<typeof loadConfig>
let db: ReturnType<typeof createDatabase>
try {
  config = loadConfig()
  db = createDatabase(config.database)
} catch (error) {
  fail(message(error))
}
const where = config.database.kind === 'postgres' ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.database.dataDir}`
if (config.migrateOnStart) {
  try {
    await migrateToLatest(db)
  } catch (error) {
    fail(`could not migrate ${where}: ${message(error)}`)
  }
}

const app = createApp({ services: createServices(db, { uploadDir: config.uploadDir, loginThrottle: config.loginThrottle, gearboxUrl: config.gearboxUrl }), trustProxy: config.trustProxy })
const server = await listen(app.fetch, config.port)
console.log(`GearBox listening on http://localhost:${server.port} (database: ${where})`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    await server.stop()
    await db.destroy()
    process.exit(0)
  })
}
