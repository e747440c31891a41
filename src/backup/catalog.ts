import { quoteIdent, sequenceHighWater } from '../db/bulk'
import { APPLICATION_TABLES, tableNamesSql } from '../db/schema'
import { IMAGE_COLUMNS } from '../domain/image'
import type { Session } from './engine'

/** A table as the backup stores it: columns in their order, the key rows are sorted by. */
export interface TableShape {
  name: string
  columns: string[]
  /** Primary-key columns; text ones compare with COLLATE "C" so the order is the same on every engine and locale. */
  orderBy: string[]
  /** Per column: can its text hold a backslash or a control character (text, json)? Numbers, times and booleans cannot. */
  textual: boolean[]
}

/**
 * An SQL condition: `column` (a table name) is one of GearBox's tables, APPLICATION_TABLES
 * and `also` (a backup's own list, which may name a table a later migration dropped). Other
 * tables in the schema are someone else's: never backed up, counted, locked or emptied.
 */
function isApplicationTable(column: string, also: readonly string[] = []): string {
  return `${column} in (${tableNamesSql(new Set<string>([...APPLICATION_TABLES, ...also]))})`
}

/**
 * GearBox's tables in the current schema (APPLICATION_TABLES and `also`, when there), by
 * name, with their columns and key.
 */
export async function applicationTables(session: Pick<Session, 'query'>, also: readonly string[] = []): Promise<TableShape[]> {
  const rows = await session.query<{ name: string; columns: string[]; textual: boolean[]; keys: string[] | null }>(`
    select t.relname as name,
      array(select a.attname::text from pg_attribute a where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as columns,
      array(select a.atttypid not in ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'float4'::regtype, 'float8'::regtype, 'numeric'::regtype,
          'bool'::regtype, 'timestamptz'::regtype, 'timestamp'::regtype, 'date'::regtype)
        from pg_attribute a where a.attrelid = t.oid and a.attnum > 0 and not a.attisdropped order by a.attnum) as textual,
      array(select quote_ident(a.attname) || case when a.atttypid in ('text'::regtype, 'varchar'::regtype) then ' collate "C"' else '' end
        from pg_constraint c cross join unnest(c.conkey) with ordinality k(attnum, n)
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
        where c.conrelid = t.oid and c.contype = 'p' order by k.n) as keys
    from pg_class t
    where t.relnamespace = current_schema()::regnamespace and t.relkind = 'r' and ${isApplicationTable('t.relname', also)}
    order by t.relname`)
  return rows.map((r) => {
    // Without a key, whole rows order the table (the same values always sort the same).
    const orderBy = r.keys && r.keys.length > 0 ? r.keys : r.columns.map(quoteIdent)
    return { name: r.name, columns: r.columns, orderBy, textual: r.textual }
  })
}

export interface TableChecksum {
  rows: number
  md5: string
}

/**
 * Row count and an MD5 over every row's text form in key order, computed by the database.
 * With the settings of pinSettings the text is the same on PostgreSQL 15 to 18, so a checksum
 * taken at backup matches the one the restored table gives, on any engine.
 */
export async function tableChecksum(session: Session, t: TableShape): Promise<TableChecksum> {
  const row = `row(${t.columns.map(quoteIdent).join(', ')})::text`
  const [result] = await session.query<TableChecksum>(
    `select count(*)::int as rows, md5(coalesce(string_agg(${row}, E'\\n' order by ${t.orderBy.join(', ')}), '')) as md5 from ${quoteIdent(t.name)}`,
  )
  return result!
}

/**
 * Fixes every setting the text form of a value depends on, for this transaction: UTC
 * timestamps in ISO form, doubles in their shortest exact form, no statement or lock timeout.
 */
export async function pinSettings(session: Session): Promise<void> {
  for (const setting of [
    `timezone = 'UTC'`,
    `datestyle = 'ISO, YMD'`,
    `intervalstyle = 'postgres'`,
    'extra_float_digits = 1',
    'statement_timeout = 0',
    'lock_timeout = 0',
  ]) {
    await session.query(`set local ${setting}`)
  }
}

export interface SequencePosition {
  table: string
  column: string
  /** The highest id the sequence handed out or was set past (null: none; see sequenceHighWater); a restore never hands out an id at or below it. */
  lastValue: number | null
}

/** Every identity column's sequence and where it stands. */
export async function sequencePositions(session: Session): Promise<SequencePosition[]> {
  const columns = await session.query<{ table: string; column: string }>(`
    select table_name as table, column_name as column from information_schema.columns
    where table_schema = current_schema() and is_identity = 'YES' and ${isApplicationTable('table_name')} order by 1, 2`)
  const positions: SequencePosition[] = []
  for (const c of columns) {
    const last = await sequenceHighWater(session, c.table, c.column)
    positions.push({ ...c, lastValue: last > 0 ? last : null })
  }
  return positions
}

async function sequenceOf(session: Session, table: string, column: string): Promise<string> {
  const [row] = await session.query<{ seq: string }>(`select pg_get_serial_sequence($1, $2) as seq`, [quoteIdent(table), column])
  return row!.seq
}

/**
 * Sets each identity sequence to the high-water mark: past both the largest id stored and
 * the position the backup recorded, so no id is ever handed out twice.
 */
export async function restoreSequences(session: Session, positions: SequencePosition[]): Promise<void> {
  for (const p of positions) {
    const seq = await sequenceOf(session, p.table, p.column)
    await session.query(`select setval($1, greatest(coalesce(max(${quoteIdent(p.column)}), 0), $2::int) + 1, false) from ${quoteIdent(p.table)}`, [
      seq,
      p.lastValue ?? 0,
    ])
  }
}

/** An image file name that rows name, with the rows naming it: table -> ids. */
export interface NamedImage {
  name: string
  rows: Record<string, number[]>
}

/** Every image file the rows of `shapes` name (items.image_filename, thread_candidates.image_filename), by name. */
export async function namedImages(session: Session, shapes: TableShape[]): Promise<NamedImage[]> {
  const selects = shapes
    .filter((t) => IMAGE_COLUMNS[t.name] && t.columns.includes(IMAGE_COLUMNS[t.name]!) && t.columns.includes('id'))
    .map(
      (t) =>
        `select ${quoteIdent(IMAGE_COLUMNS[t.name]!)} as name, '${t.name}' as "table", id from ${quoteIdent(t.name)} where ${quoteIdent(IMAGE_COLUMNS[t.name]!)} is not null`,
    )
  if (selects.length === 0) return []
  const rows = await session.query<{ name: string; table: string; id: number }>(`${selects.join(' union all ')} order by name, "table", id`)
  const byName = new Map<string, NamedImage>()
  for (const r of rows) {
    const image = byName.get(r.name) ?? { name: r.name, rows: {} }
    byName.set(r.name, image)
    image.rows[r.table] = [...(image.rows[r.table] ?? []), Number(r.id)]
  }
  return [...byName.values()]
}
