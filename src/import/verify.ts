import { sequenceHighWater } from '../db/bulk'
import { type Checksum, sourceChecksum, targetChecksumSql } from './checksum'
import { keepsSeedCategory, type PlannedTable } from './plan'
import type { TargetSession } from './target'

export interface TableVerification {
  table: string
  ok: boolean
  source: Checksum
  target: Checksum
  /** Tables with an id sequence: the next id it must hand out at the least (the high-water mark + 1), and the one it will. */
  nextId?: { expected: number; actual: number }
}

/** A table's checksums or id sequence differ; the transaction is rolled back. */
export class VerificationError extends Error {
  constructor(readonly results: TableVerification[]) {
    const bad = results.filter((r) => !r.ok).map((r) => r.table)
    super(`verification failed: ${bad.join(', ')} differ${bad.length === 1 ? 's' : ''} from the source; nothing was written`)
  }
}

/** The checksum of every planned table, from the rows read from the legacy file. */
export const sourceChecksums = (plan: PlannedTable[]): Checksum[] => plan.map((t) => sourceChecksum(t.spec, t.rows))

/** The target's checksum of every planned table, all queried at once (they run in order on the one connection). */
export function targetChecksums(session: TargetSession, plan: PlannedTable[]): Promise<Checksum[]> {
  const skipSeed = keepsSeedCategory(plan)
  return Promise.all(
    plan.map(async (t) => (await session.query<Checksum>(targetChecksumSql(t.spec, skipSeed && t.spec.name === 'categories' ? 'id <> 1' : undefined)))[0]!),
  )
}

/** The id the sequence of each planned table hands out next (undefined for tables without one). */
export async function nextIds(session: TargetSession, plan: PlannedTable[]): Promise<(number | undefined)[]> {
  const next: (number | undefined)[] = []
  for (const t of plan) next.push(t.highWater === undefined ? undefined : (await sequenceHighWater(session, t.spec.name, t.spec.key)) + 1)
  return next
}

/** Row counts and checksums equal, and no sequence behind the highest id the legacy file ever issued. */
export function compare(plan: PlannedTable[], sources: Checksum[], targets: Checksum[], next: (number | undefined)[]): TableVerification[] {
  return plan.map((t, i) => {
    const [source, target, actual] = [sources[i]!, targets[i]!, next[i]]
    const nextId = actual === undefined ? undefined : { expected: t.highWater! + 1, actual }
    const ok = source.rows === target.rows && source.md5 === target.md5 && (nextId === undefined || nextId.actual >= nextId.expected)
    return { table: t.spec.name, ok, source, target, ...(nextId && { nextId }) }
  })
}

/** Compares every planned table with the target: row counts, checksums and id sequences. */
export async function verify(session: TargetSession, plan: PlannedTable[]): Promise<TableVerification[]> {
  const targets = await targetChecksums(session, plan)
  return compare(plan, sourceChecksums(plan), targets, await nextIds(session, plan))
}
