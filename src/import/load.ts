import { dropKeysAndIndexesByTable, quoteIdent, type Rebuild } from '../db/bulk'
import { copyChunks } from './copy-binary'
import { keepsSeedCategory, type PlannedTable } from './plan'
import type { TargetSession } from './target'

/** The target holds user data and --replace was not given. */
export class TargetNotEmptyError extends Error {
  constructor(readonly counts: Record<string, number>) {
    super(
      `the target already holds data (${Object.entries(counts)
        .map(([t, n]) => `${t}: ${n}`)
        .join(', ')}); run with --replace to replace it`,
    )
  }
}

export interface LoadCallbacks {
  start(table: string, rows: number): void
  advance(table: string, rows: number): void
  finish(table: string): void
  /** A step besides the tables took `ms`. */
  step(label: string, ms: number): void
}

// The fresh-database seed (migrations/…_create_catalog.ts): the fallback category.
const SEED_CATEGORY = `id = 1 and name = 'Uncategorized'`

/** Every table of the application schema (migration bookkeeping aside). */
async function applicationTables(session: TargetSession): Promise<string[]> {
  const rows = await session.query<{ name: string }>(`select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely\\_%' order by 1`)
  return rows.map((r) => r.name)
}

/** Row counts of user data in the target: anything but the seed. */
export async function userData(session: TargetSession): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (const table of await applicationTables(session)) {
    const where = table === 'categories' ? `not (${SEED_CATEGORY})` : 'true'
    const [row] = await session.query<{ n: number }>(`select count(*)::int as n from ${quoteIdent(table)} where ${where}`)
    if (row && row.n > 0) counts[table] = row.n
  }
  return counts
}

/**
 * Inside the caller's transaction: locks and empties every application table (throws
 * TargetNotEmptyError when it holds user data and `replace` is not set) and drops the keys
 * and indexes. Returns the statements that restore them, each with the tables it reads.
 */
export async function emptyTarget(session: TargetSession, replace: boolean): Promise<Rebuild[]> {
  await session.query('set local statement_timeout = 0')
  // Memory for rebuilding the indexes, and for the checksums, which sort whole rows.
  await session.query(`set local maintenance_work_mem = '256MB'`)
  await session.query(`set local work_mem = '256MB'`)
  const tables = await applicationTables(session)
  await session.query(`lock table ${tables.map(quoteIdent).join(', ')} in access exclusive mode`)
  const counts = await userData(session)
  if (Object.keys(counts).length > 0 && !replace) throw new TargetNotEmptyError(counts)
  await session.query(`truncate ${tables.map(quoteIdent).join(', ')}`)
  return dropKeysAndIndexesByTable(session)
}

/** Streams every planned table into the emptied target with binary COPY. */
export async function copyTables(session: TargetSession, plan: PlannedTable[], progress: LoadCallbacks): Promise<void> {
  for (const table of plan) {
    const columns = table.spec.columns
    progress.start(table.spec.name, table.rows.length)
    await session.copyIn(
      table.spec.name,
      columns.map((c) => c.name),
      copyChunks(columns, table.rows),
      (n) => progress.advance(table.spec.name, n),
    )
    progress.finish(table.spec.name)
  }
}

/**
 * After the copy: puts back the seed category when the file has no category 1, and moves
 * every id sequence past the highest id the legacy file ever issued (deleted rows' ids
 * included, as SQLite's AUTOINCREMENT never reuses them).
 */
export async function finishTarget(session: TargetSession, plan: PlannedTable[]): Promise<void> {
  // The application needs category 1 as the fallback for deleted categories.
  if (keepsSeedCategory(plan)) await session.query(`insert into categories (id, name) values (1, 'Uncategorized')`)
  for (const table of plan) {
    if (table.highWater === undefined) continue
    const t = quoteIdent(table.spec.name)
    // The seed category (id 1) counts too when it was kept.
    await session.query(
      `select setval(pg_get_serial_sequence('${t}', '${table.spec.key}'), greatest(max(${quoteIdent(table.spec.key)}), ${table.highWater}) + 1, false) from ${t}`,
    )
  }
}
