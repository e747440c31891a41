import { type Kysely, sql } from 'kysely'
import { migrationFiles } from '../../src/db/migration-status'

/** The migrations on disk, by name, in the order they run. */
export const migrationNames = migrationFiles()

/** Names of our tables in the public schema (the migrator's own aside), sorted. */
export async function tableNames(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_migration%' order by 1`.execute(db)
  return rows.map((r) => r.name)
}

/** The schema's comparable rows (db:validate's own; see src/db/schema-check.ts). */
export { schemaFingerprint } from '../../src/db/schema-check'
