import { APPLICATION_TABLES_SQL, tableNamesSql } from './schema'

/** An identifier double-quoted for SQL; PostgreSQL and SQLite read it the same way. */
export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Where the bulk loaders (the SQLite import, db:restore) run their catalog statements: one transaction. */
export interface SqlSession {
  query<T>(text: string): Promise<T[]>
}

/**
 * The highest id the sequence of `table`.`column` (an identity or serial column) has handed
 * out, or been set past: its last_value when is_called, else last_value - 1 (after
 * `setval(s, n, false)` it hands out n next); 0 for a sequence never used. The bulk loaders
 * leave sequences with is_called false, so reading last_value alone would lose their mark.
 */
export async function sequenceHighWater(session: SqlSession, table: string, column: string): Promise<number> {
  const quoted = (text: string) => `'${text.replaceAll("'", "''")}'`
  const [{ name }] = (await session.query<{ name: string }>(`select pg_get_serial_sequence(${quoted(quoteIdent(table))}, ${quoted(column)}) as name`)) as [
    { name: string },
  ]
  const [row] = await session.query<{ last: string }>(`select (case when is_called then last_value else last_value - 1 end)::text as last from ${name}`)
  return Number(row!.last)
}

/**
 * Another table's foreign key refers to one of GearBox's tables. The bulk loaders empty those
 * tables and drop their keys, which such a key prevents (DROP CONSTRAINT fails on it), and
 * emptying the referring table as well would lose its rows.
 */
export class ForeignReferenceError extends Error {
  constructor(
    readonly constraint: string,
    readonly table: string,
    readonly referenced: string,
  ) {
    super(
      `the foreign key ${constraint} of table ${table} refers to ${referenced}; loading empties ${referenced} and re-creates its keys, which that key prevents (and emptying ${table} too would lose its rows); drop the foreign key, load, then add it back`,
    )
  }
}

/**
 * Empties GearBox's `tables` (names in the current schema) in the caller's transaction and
 * drops their keys and indexes first (dropKeysAndIndexesByTable, whose statements it returns).
 * Throws ForeignReferenceError first, naming the first one, when a table not among them (in
 * any schema) has a foreign key to one of them.
 *
 * DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe (PostgreSQL's docs, "MVCC Caveats"). A
 * REPEATABLE READ transaction that took its snapshot before the load (a backup, a server's
 * paged list) and reads a table after the load committed saw it empty, a state the database
 * never had: a backup taken while a restore ran held 0 rows and said it succeeded. With DELETE
 * such a reader sees the rows from before the load.
 */
export async function emptyApplicationTables(session: SqlSession, tables: string[]): Promise<Rebuild[]> {
  const emptied = tableNamesSql(tables)
  const [reference] = await session.query<{ name: string; tbl: string; ref: string }>(`
    select c.conname as name, c.conrelid::regclass::text as tbl, f.relname as ref
    from pg_constraint c join pg_class f on f.oid = c.confrelid join pg_class t on t.oid = c.conrelid
    where c.contype = 'f' and f.relnamespace = current_schema()::regnamespace and f.relname in (${emptied})
      and not (t.relnamespace = current_schema()::regnamespace and t.relname in (${emptied}))
    order by 2, 1 limit 1`)
  if (reference) throw new ForeignReferenceError(reference.name, reference.tbl, reference.ref)
  // Without their keys the tables empty in any order, and no foreign key checks a row.
  const rebuild = await dropKeysAndIndexesByTable(session)
  for (const table of tables) await session.query(`delete from ${quoteIdent(table)}`)
  return rebuild
}

/** A statement that re-creates a dropped key or index, and the tables whose rows it reads. */
export interface Rebuild {
  sql: string
  /** Its own table; a foreign key's referenced table too (names as in pg_class.relname). */
  tables: string[]
}

/**
 * Checking every foreign key and growing every index row by row makes a bulk load several
 * times slower than building them once afterwards. Drops every key and index of GearBox's
 * tables (APPLICATION_TABLES: not Kysely's, nor any other table in the schema) and returns the
 * statements that re-create them from their own catalog definitions, so nothing is restated,
 * each with the tables it reads, so a loader can re-create a table's keys as soon as it and
 * the tables they refer to are loaded; in a working order: indexes and primary and unique
 * keys, then the foreign keys, which need the keys they refer to. Run inside the load's
 * transaction: on any failure PostgreSQL rolls the DDL back with the data. Re-adding a key
 * checks every row, and the load order stops mattering (threads and thread_candidates refer
 * to each other).
 */
export async function dropKeysAndIndexesByTable(session: SqlSession): Promise<Rebuild[]> {
  const keys = await session.query<{ tbl: string; relname: string; refname: string | null; name: string; def: string }>(`
    select c.conrelid::regclass::text as tbl, t.relname, f.relname as refname, c.conname as name, pg_get_constraintdef(c.oid) as def
    from pg_constraint c join pg_class t on t.oid = c.conrelid left join pg_class f on f.oid = c.confrelid
    where c.contype in ('p', 'u', 'f') and c.connamespace = current_schema()::regnamespace and t.relname in (${APPLICATION_TABLES_SQL})
    order by c.contype = 'f' desc, c.conname`)
  const indexes = await session.query<{ relname: string; name: string; def: string }>(`
    select t.relname, i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
    from pg_index i join pg_class t on t.oid = i.indrelid
    where t.relnamespace = current_schema()::regnamespace and t.relname in (${APPLICATION_TABLES_SQL})
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 2`)
  for (const k of keys) await session.query(`alter table ${k.tbl} drop constraint ${quoteIdent(k.name)}`)
  for (const i of indexes) await session.query(`drop index ${i.name}`)
  // Foreign keys were listed (and dropped) first, so they come back last, after the keys they need.
  return [
    ...indexes.map((i) => ({ sql: i.def, tables: [i.relname] })),
    ...keys.toReversed().map((k) => ({
      sql: `alter table ${k.tbl} add constraint ${quoteIdent(k.name)} ${k.def}`,
      tables: k.refname && k.refname !== k.relname ? [k.relname, k.refname] : [k.relname],
    })),
  ]
}
