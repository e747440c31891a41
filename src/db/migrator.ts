import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Kysely } from 'kysely'
import { FileMigrationProvider, Migrator } from 'kysely'

export const migrationFolder = path.join(import.meta.dir, '../../migrations')

/** `inTransaction`: `db` runs inside a transaction the caller opened, so the migrator opens none. */
export function createMigrator(db: Kysely<any>, { inTransaction = false } = {}): Migrator {
  return new Migrator({ db, provider: new FileMigrationProvider({ fs, path, migrationFolder }), disableTransactions: inTransaction })
}

/**
 * Applies every pending migration (each in one transaction, or all inside the caller's with
 * `inTransaction`); throws the first migration error with its name.
 */
export async function migrateToLatest(db: Kysely<any>, options: { inTransaction?: boolean } = {}): Promise<void> {
  const { error, results } = await createMigrator(db, options).migrateToLatest()
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
