import { defineConfig, getKnexTimestampPrefix } from 'kysely-ctl'
import { ConfigError, loadConfig } from './src/config'
import { createDatabase } from './src/db/database'

function database() {
  try {
    return createDatabase(loadConfig().database)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}

// Acts on DATABASE_URL when it is set, else on the embedded database in GEARBOX_DATA_DIR.
// Kysely's migrator takes a PostgreSQL advisory lock, so concurrent runs apply each migration once.
export default defineConfig({
  kysely: database,
  migrations: { migrationFolder: 'migrations', getMigrationPrefix: getKnexTimestampPrefix },
})
