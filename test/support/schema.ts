import { readdirSync } from 'node:fs'
import { type Kysely, sql } from 'kysely'
import { migrationFolder } from '../../src/db/migrator'

/** The migrations on disk, by name, in the order they run. */
export const migrationNames = readdirSync(migrationFolder)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort()

/** Names of our tables in the public schema (the migrator's own aside), sorted. */
export async function tableNames(db: Kysely<any>): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_migration%' order by 1`.execute(db)
  return rows.map((r) => r.name)
}

/**
 * Everything that defines our schema, as comparable rows: columns (type, nullability,
 * default, identity), constraints with their definitions, and indexes with theirs.
 */
export async function schemaFingerprint(db: Kysely<any>) {
  const { rows: columns } = await sql<Record<string, unknown>>`
    select table_name, column_name, ordinal_position, data_type, is_nullable, column_default, is_identity
    from information_schema.columns
    where table_schema = 'public' and table_name not like 'kysely_migration%'
    order by table_name, ordinal_position`.execute(db)
  const { rows: constraints } = await sql<Record<string, unknown>>`
    select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where connamespace = 'public'::regnamespace and conrelid::regclass::text not like 'kysely_migration%'
    order by 1, 2`.execute(db)
  const { rows: indexes } = await sql<Record<string, unknown>>`
    select tablename, indexname, indexdef from pg_indexes
    where schemaname = 'public' and tablename not like 'kysely_migration%'
    order by 1, 2`.execute(db)
  return { columns, constraints, indexes }
}
