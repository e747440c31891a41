import { promises as fs } from 'node:fs'
import path from 'node:path'
import { FileMigrationProvider, type Kysely, type MigrationResultSet, Migrator, sql } from 'kysely'

export const migrationFolder = path.join(import.meta.dir, '../../migrations')

/**
 * Takes, until the caller's transaction ends, the advisory lock Kysely's migrator takes for
 * a migration (its postgres-adapter's LOCK_ID): an import or a restore that migrates inside its
 * own transaction holds it from the start, so two at once on a fresh database queue up
 * instead of both creating the migration tables (the second then failed with "current
 * transaction is aborted"). A session holding it gets it again, so the migrator's own
 * request inside the transaction goes through.
 */
export const MIGRATION_LOCK_SQL = 'select pg_advisory_xact_lock(3853314791062309107)'

/** `inTransaction`: `db` runs inside a transaction the caller opened, so the migrator opens none. */
export function createMigrator(db: Kysely<any>, { inTransaction = false } = {}): Migrator {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }), disableTransactions: inTransaction })
}

/**
 * Applies every pending migration, all in one transaction (or inside the caller's with
 * `inTransaction`), with no lock or statement timeout; throws the first migration error with its name.
 */
export async function migrateToLatest(db: Kysely<any>, options: { inTransaction?: boolean } = {}): Promise<void> {
  // A migration may wait for the locks of running requests, or for another process migrating
  // (the migrator's advisory lock), and may take long: no lock or statement timeout here.
  const { error, results } = await (options.inTransaction
    ? createMigrator(db, options).migrateToLatest()
    : db.connection().execute(async (connection) => {
        // Set for this session and reset after (to the values the pool's connections start with).
        await sql`set lock_timeout = 0`.execute(connection)
        await sql`set statement_timeout = 0`.execute(connection)
        try {
          return await createMigrator(connection).migrateToLatest()
        } finally {
          await sql`reset lock_timeout`.execute(connection)
          await sql`reset statement_timeout`.execute(connection)
        }
      })
  ).catch((error: unknown): MigrationResultSet => ({ error }))
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    // A connection failure names its cause too ("database unavailable" alone says nothing).
    const reason = error instanceof Error ? error.message + (error.cause instanceof Error ? ` (${error.cause.message})` : '') : String(error)
    throw new Error(`${failed ? `migration ${failed}` : 'migrating'} failed: ${reason}`, { cause: error })
  }
}

/** Names of migrations on disk that the database has not applied yet. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const all = await createMigrator(db).getMigrations()
  return all.filter((m) => !m.executedAt).map((m) => m.name)
}
