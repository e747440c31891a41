/** An identifier double-quoted for SQL; PostgreSQL and SQLite read it the same way. */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Where the bulk loaders (the SQLite import, db:restore) run their catalog statements: one transaction. */
export interface SqlSession {
  query<T>(text: string): Promise<T[]>
}

/**
 * Checking every foreign key and growing every index row by row makes a bulk load several
 * times slower than building them once afterwards. Drops every key and index of the
 * application's tables (not Kysely's) and returns the statements that re-create them from
 * their own catalog definitions, so nothing is restated. Run inside the load's transaction:
 * on any failure PostgreSQL rolls the DDL back with the data. Re-adding a key checks every
 * row, and the load order stops mattering (threads and thread_candidates refer to each other).
 */
export async function dropKeysAndIndexes(session: SqlSession): Promise<string[]> {
  const keys = await session.query<{ tbl: string; name: string; def: string }>(`
    select c.conrelid::regclass::text as tbl, c.conname as name, pg_get_constraintdef(c.oid) as def
    from pg_constraint c join pg_class t on t.oid = c.conrelid
    where c.contype in ('p', 'u', 'f') and c.connamespace = current_schema()::regnamespace and t.relname not like 'kysely\\_%'
    order by c.contype = 'f' desc, c.conname`)
  const indexes = await session.query<{ name: string; def: string }>(`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
    from pg_index i join pg_class t on t.oid = i.indrelid
    where t.relnamespace = current_schema()::regnamespace and t.relname not like 'kysely\\_%'
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 1`)
  for (const k of keys) await session.query(`alter table ${k.tbl} drop constraint ${quoteIdent(k.name)}`)
  for (const i of indexes) await session.query(`drop index ${i.name}`)
  // Foreign keys were listed (and dropped) first, so they come back last, after the keys they need.
  return [...indexes.map((i) => i.def), ...keys.toReversed().map((k) => `alter table ${k.tbl} add constraint ${quoteIdent(k.name)} ${k.def}`)]
}
