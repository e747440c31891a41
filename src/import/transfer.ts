import { copyTables, emptyTarget, finishTarget, type LoadCallbacks } from './load'
import type { PlannedTable } from './plan'
import type { TargetSession } from './target'
import { compare, nextIds, sourceChecksums, type TableVerification, targetChecksums, VerificationError } from './verify'

/**
 * The import's one transaction, inside the caller's: empty the target, copy every planned
 * table, restore keys and sequences, verify, then run `beforeCommit` (placing the images).
 * Throws TargetNotEmptyError or VerificationError; the caller's rollback undoes everything.
 */
export async function loadAndVerify(
  session: TargetSession,
  plan: PlannedTable[],
  options: { replace: boolean; beforeCommit?: () => Promise<void> },
  progress: LoadCallbacks,
): Promise<TableVerification[]> {
  const restore = await emptyTarget(session, options.replace)
  await copyTables(session, plan, progress)
  const started = performance.now()
  // No value changes after the COPY, so the server can checksum the tables and then rebuild
  // keys and indexes while this process computes the source checksums: all queued at once
  // (they run in order on the one connection), awaited together.
  const targetSums = targetChecksums(session, plan)
  const restoring = Promise.all(restore.map((statement) => session.query(statement)))
  // A driver may send queued queries on a later turn of the event loop (postgres.js does):
  // let them go out before this process is busy hashing, or the server would wait for it.
  await new Promise((resolve) => setImmediate(resolve))
  const sources = sourceChecksums(plan)
  const [targets] = await Promise.all([targetSums, restoring])
  await finishTarget(session, plan)
  progress.step('checksums, keys and indexes', performance.now() - started)
  const results = compare(plan, sources, targets, await nextIds(session, plan))
  if (results.some((r) => !r.ok)) throw new VerificationError(results)
  await options.beforeCommit?.()
  return results
}
