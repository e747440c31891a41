import { defineConfig, getKnexTimestampPrefix } from 'kysely-ctl'
import { loadConfig } from './src/config'
import { describeDatabase, openCheckedDatabase } from './src/db/connection'

/**
 * Opened only by the commands that touch the database (not migrate:make). It says which
 * database it acts on, and checks that it answers first: a bad variable, a database in use
 * or one that cannot be reached stops the command with one line naming it, no stack trace.
 */
async function database() {
  try {
    const { database } = loadConfig()
    const db = await openCheckedDatabase(database)
    console.log(`database: ${describeDatabase(database)}`)
    return db
  } catch (error) {
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
