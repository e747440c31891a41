import { PGlite } from '@electric-sql/pglite'
import { type Kysely, sql } from 'kysely'
import { createPGliteDatabase, pgliteOptions } from './database'
import { migrationFiles, migrationStatus } from './migration-status'
import { createMigrator } from './migrator'

/**
 * Everything that defines our schema, as comparable rows: columns (type, collation,
 * nullability, default, identity and its sequence's steps), constraints with their
 * definitions, other indexes with theirs, and what changes rows behind a statement's back or
 * hides them: triggers, rules, row-level security and its policies.
 * PostgreSQL 18 also lists NOT NULL as constraints; those are left out (the columns say
 * it), so the same migrations give the same fingerprint on PostgreSQL 15 to 18.
 */
export async function schemaFingerprint(db: Kysely<any>) {
  const { rows: columns } = await sql<Record<string, unknown>>`
    select table_name, column_name, ordinal_position, data_type, collation_name, is_nullable, column_default, is_identity,
      identity_generation, identity_increment, identity_minimum, identity_maximum, identity_cycle
    from information_schema.columns
    where table_schema = current_schema() and table_name not like 'kysely_migration%'
    order by table_name, ordinal_position`.execute(db)
  const { rows: constraints } = await sql<Record<string, unknown>>`
    select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where connamespace = current_schema()::regnamespace and contype <> 'n' and conrelid::regclass::text not like 'kysely_migration%'
    order by 1, 2`.execute(db)
  // Indexes of their own: those behind a key or unique constraint are the constraint's.
  const { rows: indexes } = await sql<Record<string, unknown>>`
    select t.relname as tablename, i.indexrelid::regclass::text as indexname, pg_get_indexdef(i.indexrelid) as indexdef
    from pg_index i join pg_class t on t.oid = i.indrelid
    where t.relnamespace = current_schema()::regnamespace and t.relname not like 'kysely_migration%'
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.contype in ('p', 'u', 'x'))
    order by 1, 2`.execute(db)
  // Row-level security is a table's flag; its policies, triggers and rules have names of their own.
  const { rows: behaviour } = await sql<{ kind: string; name: string; definition: string }>`
    select 'trigger' as kind, t.tgrelid::regclass::text || '.' || t.tgname as name, pg_get_triggerdef(t.oid) as definition
    from pg_trigger t join pg_class c on c.oid = t.tgrelid
    where not t.tgisinternal and c.relnamespace = current_schema()::regnamespace
    union all
    select 'rule', tablename || '.' || rulename, definition from pg_rules where schemaname = current_schema()
    union all
    select 'row-level security on', relname, case when relforcerowsecurity then 'enabled, forced' else 'enabled' end
    from pg_class where relnamespace = current_schema()::regnamespace and relkind = 'r' and relrowsecurity
    union all
    select 'policy', tablename || '.' || policyname,
      permissive || ' for ' || cmd || ' to ' || array_to_string(roles, ', ') || coalesce(' using (' || qual || ')', '') || coalesce(' with check (' || with_check || ')', '')
    from pg_policies where schemaname = current_schema()
    order by 1, 2`.execute(db)
  return { columns, constraints, indexes, behaviour }
}

type Fingerprint = Awaited<ReturnType<typeof schemaFingerprint>>

export interface SchemaReport {
  /** The migration the live schema was compared at (its last applied one that this version knows). */
  comparedAt: string | undefined
  /** Every difference, one line each; empty when the schema is what the migrations produce. */
  differences: string[]
  /** Migrations on disk not applied yet (not drift: `migrate:latest` applies them). */
  pending: string[]
}

/**
 * Compares the live schema of `db` with the one the migrations produce, built in a
 * throwaway in-memory PGlite migrated to the same version: tables, columns (type, collation,
 * nullability, default, identity), named constraints with their definitions, indexes,
 * triggers, rules, row-level security and policies, and the migration history (applied
 * migrations this version does not know, or gaps).
 */
export async function checkSchema(db: Kysely<any>): Promise<SchemaReport> {
  const status = await migrationStatus(db)
  const files = migrationFiles()
  const differences = status.unknown.map((name) => `unknown applied migration ${name} (no file in migrations/)`)
  const known = status.applied.filter((m) => files.includes(m.name))
  const comparedAt = known.at(-1)?.name
  const gaps = comparedAt ? status.pending.filter((p) => p < comparedAt) : []
  differences.push(...gaps.map((name) => `migration ${name} is not applied, but later ones are`))
  const reference = await referenceFingerprint(comparedAt)
  differences.push(...compareFingerprints(await schemaFingerprint(db), reference))
  return { comparedAt, differences, pending: status.pending.filter((p) => !gaps.includes(p)) }
}

const references = new Map<string | undefined, Promise<Fingerprint>>()

/** What the migrations up to `version` produce; built once per version and process. */
function referenceFingerprint(version: string | undefined): Promise<Fingerprint> {
  let reference = references.get(version)
  if (!reference) {
    reference = buildReference(version)
    references.set(version, reference)
    reference.catch(() => references.delete(version))
  }
  return reference
}

async function buildReference(version: string | undefined): Promise<Fingerprint> {
  const db = createPGliteDatabase(new PGlite(pgliteOptions))
  try {
    if (version) {
      const { error } = await createMigrator(db).migrateTo(version)
      if (error) throw error
    }
    return await schemaFingerprint(db)
  } finally {
    await db.destroy()
  }
}

function compareFingerprints(live: Fingerprint, expected: Fingerprint): string[] {
  const differences: string[] = []
  const byKey = (rows: Record<string, unknown>[], key: (r: Record<string, any>) => string) => new Map(rows.map((r) => [key(r), r]))
  const tables = (f: Fingerprint) => new Set(f.columns.map((c) => String(c.table_name)))
  const [liveTables, expectedTables] = [tables(live), tables(expected)]
  for (const t of expectedTables) if (!liveTables.has(t)) differences.push(`missing table ${t}`)
  for (const t of liveTables) if (!expectedTables.has(t)) differences.push(`extra table ${t}`)

  const identity = (c: Record<string, unknown>) =>
    c.is_identity === 'YES'
      ? `, identity (generated ${String(c.identity_generation).toLowerCase()}, increment ${c.identity_increment}, ${c.identity_minimum} to ${c.identity_maximum}${c.identity_cycle === 'YES' ? ', cycle' : ''})`
      : ''
  const column = (c: Record<string, any>) =>
    `${c.data_type}${c.collation_name === null ? '' : ` collate "${c.collation_name}"`}, ${c.is_nullable === 'YES' ? 'null' : 'not null'}${c.column_default === null ? '' : `, default ${c.column_default}`}${identity(c)}`
  compare(
    byKey(live.columns, (c) => `${c.table_name}.${c.column_name}`),
    byKey(expected.columns, (c) => `${c.table_name}.${c.column_name}`),
    'column',
    column,
    (k) => !liveTables.has(k.split('.')[0]!) || !expectedTables.has(k.split('.')[0]!),
  )
  compare(
    byKey(live.constraints, (c) => `${c.conname} on ${c.table_name}`),
    byKey(expected.constraints, (c) => `${c.conname} on ${c.table_name}`),
    'constraint',
    (c) => String(c.definition),
  )
  compare(
    byKey(live.indexes, (i) => String(i.indexname)),
    byKey(expected.indexes, (i) => String(i.indexname)),
    'index',
    (i) => String(i.indexdef),
  )
  for (const kind of ['trigger', 'rule', 'row-level security on', 'policy']) {
    const of = (f: Fingerprint) =>
      byKey(
        f.behaviour.filter((b) => b.kind === kind),
        (b) => b.name,
      )
    compare(of(live), of(expected), kind, (b) => b.definition)
  }
  return differences

  function compare(
    liveRows: Map<string, any>,
    expectedRows: Map<string, any>,
    kind: string,
    describe: (r: any) => string,
    covered: (key: string) => boolean = () => false,
  ) {
    for (const [key, row] of expectedRows) {
      if (covered(key)) continue
      const found = liveRows.get(key)
      if (!found) differences.push(`missing ${kind} ${key}: ${describe(row)}`)
      else if (describe(found) !== describe(row)) differences.push(`changed ${kind} ${key}: ${describe(found)}; the migrations give ${describe(row)}`)
    }
    for (const [key, row] of liveRows) if (!covered(key) && !expectedRows.has(key)) differences.push(`extra ${kind} ${key}: ${describe(row)}`)
  }
}
