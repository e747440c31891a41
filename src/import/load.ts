import { sourceChecksum, targetChecksumSql, type Checksum } from './checksum'
import { copyChunks } from './copy-binary'
import type { PlannedTable } from './plan'
import { quote } from './scan'
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

/** A table's checksums differ; the transaction is rolled back. */
export class VerificationError extends Error {
  constructor(readonly results: TableVerification[]) {
    const bad = results.filter((r) => !r.ok).map((r) => r.table)
    super(`verification failed: ${bad.join(', ')} differ${bad.length === 1 ? 's' : ''} from the source; nothing was written`)
  }
}

export interface TableVerification {
  table: string
  ok: boolean
  source: Checksum
  target: Checksum
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
    const [row] = await session.query<{ n: number }>(`select count(*)::int as n from ${quote(table)} where ${where}`)
    if (row && row.n > 0) counts[table] = row.n
  }
  return counts
}

/**
 * Inside the caller's transaction: empties the target (refusing user data unless
 * `replace`), copies every planned table, restores the ids' sequences and verifies.
 * Throws TargetNotEmptyError or VerificationError; the caller's rollback undoes everything.
 */
export async function loadPlan(
  session: TargetSession,
  plan: PlannedTable[],
  options: { replace: boolean },
  progress: LoadCallbacks,
): Promise<TableVerification[]> {
  await session.query('set local statement_timeout = 0')
  // Memory for rebuilding the indexes, and for the checksums, which sort whole rows.
  await session.query(`set local maintenance_work_mem = '256MB'`)
  await session.query(`set local work_mem = '256MB'`)
  const tables = await applicationTables(session)
  await session.query(`lock table ${tables.map(quote).join(', ')} in access exclusive mode`)
  const counts = await userData(session)
  if (Object.keys(counts).length > 0 && !options.replace) throw new TargetNotEmptyError(counts)
  await session.query(`truncate ${tables.map(quote).join(', ')}`)
  const restore = await dropKeysAndIndexes(session)

  for (const table of plan) {
    const columns = table.spec.columns
    const rows = table.rows
    progress.start(table.spec.name, rows.length)
    await session.copyIn(
      table.spec.name,
      columns.map((c) => c.name),
      copyChunks(columns, rows),
      (n) => progress.advance(table.spec.name, n),
    )
    progress.finish(table.spec.name)
  }
  const started = performance.now()
  // No value changes after the COPY, so the server can checksum the tables and then rebuild
  // keys and indexes while this process computes the source checksums: all queued at once
  // (they run in order on the one connection), awaited together.
  const targetSums = targetChecksums(session, plan)
  const restoring = Promise.all(restore.map((statement) => session.query(statement)))
  // A driver may send queued queries on a later turn of the event loop (postgres.js does):
  // let them go out before this process is busy hashing, or the server would wait for it.
  await new Promise((resolve) => setImmediate(resolve))
  const sources = plan.map((t) => sourceChecksum(t.spec, t.rows))
  const [targets] = await Promise.all([targetSums, restoring])
  // The application needs category 1 as the fallback for deleted categories.
  if (keepsSeedCategory(plan)) await session.query(`insert into categories (id, name) values (1, 'Uncategorized')`)
  for (const table of plan) {
    if (table.spec.key !== 'id' || table.spec.columns[0]!.kind.type !== 'int') continue
    const t = quote(table.spec.name)
    await session.query(`select setval(pg_get_serial_sequence('${t}', 'id'), coalesce(max(id), 0) + 1, false) from ${t}`)
  }
  progress.step('checksums, keys and indexes', performance.now() - started)
  const results = compare(plan, sources, targets)
  if (results.some((r) => !r.ok)) throw new VerificationError(results)
  return results
}

/**
 * Checking every foreign key and growing every index row by row makes a bulk load several
 * times slower than building them once afterwards. Keys and indexes are dropped here and
 * re-created from their own catalog definitions (so nothing is restated), all inside the
 * import transaction: on any failure PostgreSQL rolls the DDL back with the data. Returns
 * the statements that restore them; re-adding a key checks every row. (It also lets
 * threads and thread_candidates, which refer to each other, load one after the other.)
 */
async function dropKeysAndIndexes(session: TargetSession): Promise<string[]> {
  const keys = await session.query<{ tbl: string; name: string; def: string; type: string }>(`
    select c.conrelid::regclass::text as tbl, c.conname as name, pg_get_constraintdef(c.oid) as def, c.contype as type
    from pg_constraint c join pg_class t on t.oid = c.conrelid
    where c.contype in ('p', 'u', 'f') and c.connamespace = current_schema()::regnamespace and t.relname not like 'kysely\\_%'
    order by c.contype = 'f' desc, c.conname`)
  const indexes = await session.query<{ name: string; def: string }>(`
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
    from pg_index i join pg_class t on t.oid = i.indrelid
    where t.relnamespace = current_schema()::regnamespace and t.relname not like 'kysely\\_%'
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid) order by 1`)
  for (const k of keys) await session.query(`alter table ${k.tbl} drop constraint ${quote(k.name)}`)
  for (const i of indexes) await session.query(`drop index ${i.name}`)
  // Foreign keys were listed (and dropped) first, so they come back last, after the keys they need.
  return [...indexes.map((i) => i.def), ...keys.toReversed().map((k) => `alter table ${k.tbl} add constraint ${quote(k.name)} ${k.def}`)]
}

/** Compares row counts and checksums of every planned table with the target. */
export async function verify(session: TargetSession, plan: PlannedTable[]): Promise<TableVerification[]> {
  return compare(
    plan,
    plan.map((t) => sourceChecksum(t.spec, t.rows)),
    await targetChecksums(session, plan),
  )
}

/** A file without category 1 gets the built-in one kept, which is then no part of the copy. */
const keepsSeedCategory = (plan: PlannedTable[]) => !plan.find((t) => t.spec.name === 'categories')!.rows.some((r) => r[0] === 1)

/** The target's checksum of every planned table, all queried at once (they run in order on the one connection). */
function targetChecksums(session: TargetSession, plan: PlannedTable[]): Promise<Checksum[]> {
  const skipSeed = keepsSeedCategory(plan)
  return Promise.all(
    plan.map(async (t) => (await session.query<Checksum>(targetChecksumSql(t.spec, skipSeed && t.spec.name === 'categories' ? 'id <> 1' : undefined)))[0]!),
  )
}

function compare(plan: PlannedTable[], sources: Checksum[], targets: Checksum[]): TableVerification[] {
  return plan.map((t, i) => {
    const [source, target] = [sources[i]!, targets[i]!]
    return { table: t.spec.name, ok: source.rows === target.rows && source.md5 === target.md5, source, target }
  })
}
