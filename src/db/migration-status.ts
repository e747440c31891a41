import { readdirSync } from 'node:fs'
import { type Kysely, sql } from 'kysely'
import { migrationFolder } from './migrator'

/** The migrations on disk, by name, in the order they run. */
export function migrationFiles(): string[] {
  return readdirSync(migrationFolder)
    .filter((f) => /\.(ts|js)$/.test(f))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .sort()
}

export interface AppliedMigration {
  name: string
  /** When it was applied, ISO 8601 (as Kysely's migrator recorded it). */
  appliedAt: string
}

/** The migrations the database has applied, in name order; none when it has no migration table. */
export async function appliedMigrations(db: Kysely<any>): Promise<AppliedMigration[]> {
  const { rows } = await sql<{ exists: boolean }>`select to_regclass('kysely_migration') is not null as exists`.execute(db)
  if (!rows[0]?.exists) return []
  const applied = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name`.execute(db)
  return applied.rows.map((r) => ({ name: r.name, appliedAt: r.timestamp }))
}

export interface MigrationStatus {
  applied: AppliedMigration[]
  /** On disk, not applied. */
  pending: string[]
  /** Applied, but no file in migrations/ (a newer GearBox, or a removed file). */
  unknown: string[]
}

/** Applied, pending and unknown migrations of `db` against the files in migrations/. */
export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus> {
  const files = migrationFiles()
  const applied = await appliedMigrations(db)
  const names = new Set(applied.map((m) => m.name))
  return {
    applied,
    pending: files.filter((f) => !names.has(f)),
    unknown: applied.filter((m) => !files.includes(m.name)).map((m) => m.name),
  }
}
