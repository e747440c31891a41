import { defineConfig, getKnexTimestampPrefix } from 'kysely-ctl'
import { loadConfig } from './src/config'
import { createDatabase } from './src/db/database'

function database() {
  try {
    return createDatabase(loadConfig().database)
  } catch (error) {
    // A bad variable or a database in use: one line, no stack trace.
    console.error(error instanceof Error ? error.message : String(error))
    process.exit(1)
  }
}

// Acts on DATABASE_URL when it is set, else on the embedded database in GEARBOX_DATA_DIR.
// Kysely's migrator takes a PostgreSQL advisory lock, so concurrent runs apply each migration once.
export default defineConfig({
  kysely: database,
  migrations: { migrationFolder: 'migrations', getMigrationPrefix: getKnexTimestampPrefix },
})
