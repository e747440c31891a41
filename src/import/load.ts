import { applicationTables } from '../backup/catalog'
import { emptyApplicationTables, quoteIdent, type Rebuild } from '../db/bulk'
import { copyChunks } from './copy-binary'
import { keepsSeedCategory, type PlannedTable } from './plan'
import type { TargetSession } from './target'

/**
 * The target holds data beyond a fresh install and --replace was not given. `holdings` says
 * what it holds: every non-empty table's row count, the seed row counted like any other
 * (`categories: 2, items: 1; a fresh install holds only the category Uncategorized`).
 */
export class TargetNotEmptyError extends Error {
  readonly holdings: string
  constructor(readonly contents: TargetContents) {
    const counts = Object.entries(contents.counts).map(([t, n]) => `${t}: ${n}`)
    const holdings = `${counts.join(', ')}${contents.seedCategory ? `; a fresh install holds only the category ${SEED_CATEGORY_NAME}` : ''}`
    super(`the target already holds data beyond a fresh install (${holdings}); run with --replace to replace it`)
    this.holdings = holdings
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
const SEED_CATEGORY_NAME = 'Uncategorized'
const SEED_CATEGORY = `id = 1 and name = '${SEED_CATEGORY_NAME}'`

export interface TargetContents {
  /** Rows of every table that has any, the seed category included. */
  counts: Record<string, number>
  /** The seed category is there as a fresh install made it. */
  seedCategory: boolean
  /** Anything beyond the seed: what a restore or import refuses to replace without --replace. */
  beyondFreshInstall: boolean
}

/**
 * What the target's `tables` hold. A fresh install holds one row, the seed category, and
 * counts as empty (import and restore go ahead without --replace).
 */
export async function targetContents(session: Pick<TargetSession, 'query'>, tables: string[]): Promise<TargetContents> {
  const contents: TargetContents = { counts: {}, seedCategory: false, beyondFreshInstall: false }
  for (const table of tables) {
    const seed = table === 'categories' ? `count(*) filter (where ${SEED_CATEGORY})::int` : '0'
    const [row] = await session.query<{ n: number; seed: number }>(`select count(*)::int as n, ${seed} as seed from ${quoteIdent(table)}`)
    if (!row || row.n === 0) continue
    contents.counts[table] = row.n
    contents.seedCategory ||= row.seed > 0
    contents.beyondFreshInstall ||= row.n > row.seed
  }
  return contents
}

/**
 * Inside the caller's transaction: locks and empties every application table (throws
 * TargetNotEmptyError when they hold more than a fresh install and `replace` is not set,
 * ForeignReferenceError when another table refers to one of them) and
 * drops the keys and indexes. Returns the statements that restore them, each with the tables it reads.
 */
export async function emptyTarget(session: TargetSession, replace: boolean): Promise<Rebuild[]> {
  await session.query('set local statement_timeout = 0')
  await session.query('set local lock_timeout = 0')
  // Memory for rebuilding the indexes, and for the checksums, which sort whole rows.
  await session.query(`set local maintenance_work_mem = '256MB'`)
  await session.query(`set local work_mem = '256MB'`)
  // GearBox's tables only: another table in the schema is someone else's, never locked or emptied.
  const tables = (await applicationTables(session)).map((t) => t.name)
  await session.query(`lock table ${tables.map(quoteIdent).join(', ')} in access exclusive mode`)
  const contents = await targetContents(session, tables)
  if (contents.beyondFreshInstall && !replace) throw new TargetNotEmptyError(contents)
  return emptyApplicationTables(session, tables)
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
