import type { Rebuild } from '../db/bulk'
import type { Checksum } from './checksum'
import { sourceChecksum, targetChecksumSql } from './checksum'
import { copyData } from './copy-binary'
import type { TableSpec } from './legacy-schema'
import { copyTables, emptyTarget, finishTarget, type LoadCallbacks } from './load'
import type { PlannedTable } from './plan'
import type { ScanListener } from './scan'
import type { CopyStream, TargetSession } from './target'
import { compare, nextIds, sourceChecksums, type TableVerification, targetChecksums, VerificationError } from './verify'

export interface LoadOptions {
  replace: boolean
  beforeCommit?: () => Promise<void>
}

/**
 * The import's one transaction, inside the caller's: empty the target, copy every planned
 * table, restore keys and sequences, verify, then run `beforeCommit` (placing the images).
 * Throws TargetNotEmptyError or VerificationError; the caller's rollback undoes everything.
 */
export async function loadAndVerify(session: TargetSession, plan: PlannedTable[], options: LoadOptions, progress: LoadCallbacks): Promise<TableVerification[]> {
  const restore = (await emptyTarget(session, options.replace)).map((r) => r.sql)
  await copyTables(session, plan, progress)
  return verifyAndFinish(session, plan, restore, { target: targetChecksums(session, plan) }, options, progress)
}

/**
 * After the copy: restores the keys and indexes still missing (`restore`, from emptyTarget or
 * StreamingLoad.copied) and sequences, and compares the server's checksums (`checksums.target`,
 * already queued, one per planned table in order) with the source's (`checksums.source` when
 * already computed from the same rows, else computed here). Throws VerificationError;
 * otherwise runs `beforeCommit`.
 */
export async function verifyAndFinish(
  session: TargetSession,
  plan: PlannedTable[],
  restore: string[],
  checksums: { target: Promise<Checksum[]>; source?: Checksum[] },
  options: LoadOptions,
  progress: LoadCallbacks,
): Promise<TableVerification[]> {
  const started = performance.now()
  // No value changes after the COPY, so the server can checksum the tables and then rebuild
  // keys and indexes while this process computes the source checksums: all queued at once
  // (they run in order on the one connection), awaited together.
  const restoring = Promise.all(restore.map((statement) => session.query(statement)))
  // A driver may send queued queries on a later turn of the event loop (postgres.js does):
  // let them go out before this process is busy hashing, or the server would wait for it.
  await new Promise((resolve) => setImmediate(resolve))
  if (checksums.source && checksums.source.length !== plan.length) throw new Error('verifyAndFinish: one source checksum per planned table')
  const sources = checksums.source ?? sourceChecksums(plan)
  const [targets] = await Promise.all([checksums.target, restoring])
  await finishTarget(session, plan)
  progress.step('checksums, keys and indexes', performance.now() - started)
  const results = compare(plan, sources, targets, await nextIds(session, plan))
  if (results.some((r) => !r.ok)) throw new VerificationError(results)
  await options.beforeCommit?.()
  return results
}

// Encoded chunks a StreamingLoad lets wait for the connection before the scan waits too.
const MAX_QUEUED_CHUNKS = 32

/**
 * A ScanListener that copies each table into the emptied target while the scan reads the
 * next: every chunk of checked rows goes into the table's binary COPY, and as soon as a table
 * is complete the server is asked for its checksum and re-creates every key and index (of
 * `rebuilds`, from emptyTarget) whose tables are all loaded by then, so it builds them while
 * the scan reads on. All of it queues on the one connection in order. The first failure on
 * the connection (a key the rows break, say) stops the copy but not the scan, which then
 * reports the file's problems as usual. The caller finishes with `copied()` when the scan
 * found nothing, or `abort()`.
 */
export class StreamingLoad implements ScanListener {
  private copy?: CopyStream
  private tail: Promise<void> = Promise.resolve()
  private queued = 0
  private aborted = false
  private failure?: unknown
  private readonly sums: Promise<Checksum>[] = []
  private readonly sourceSums: Checksum[] = []
  private readonly loaded = new Set<string>()
  private pending: Rebuild[]

  constructor(
    private readonly session: TargetSession,
    private readonly progress: LoadCallbacks,
    rebuilds: Rebuild[] = [],
  ) {
    this.pending = rebuilds
  }

  async rows(spec: TableSpec, rows: unknown[][], from: number, to: number): Promise<void> {
    if (this.failure !== undefined) return
    if (from === 0) {
      this.progress.start(spec.name, rows.length)
      this.queue(async () => {
        this.copy = await this.session.openCopy(
          spec.name,
          spec.columns.map((c) => c.name),
        )
      })
    }
    const data = copyData(spec.columns, rows, from, to)
    this.queued++
    this.queue(async () => {
      await this.copy!.write(data)
      this.queued--
      this.progress.advance(spec.name, to - from)
    })
    if (to === rows.length) {
      // Rows of a file without category 1 do not include the seed category kept beside them.
      const where = spec.name === 'categories' && !rows.some((r) => r[0] === 1) ? 'id <> 1' : undefined
      this.loaded.add(spec.name)
      const ready = this.pending.filter((r) => r.tables.every((t) => this.loaded.has(t)))
      this.pending = this.pending.filter((r) => !ready.includes(r))
      this.queue(async () => {
        const copy = this.copy!
        this.copy = undefined
        await copy.end()
        this.progress.finish(spec.name)
        const sum = this.session.query<Checksum>(targetChecksumSql(spec, where)).then((r) => r[0]!)
        sum.catch(() => {})
        this.sums.push(sum)
        const rebuilt = Promise.all(ready.map((r) => this.session.query(r.sql)))
        rebuilt.catch(() => {})
        // Once they have gone out, this process hashes the table's rows while the server works.
        await new Promise((resolve) => setImmediate(resolve))
        this.sourceSums.push(sourceChecksum(spec, rows))
        await rebuilt
      })
    }
    // Let the connection take what is queued; wait for it when the scan runs far ahead.
    if (this.queued > MAX_QUEUED_CHUNKS) await this.tail
    else await new Promise((resolve) => setImmediate(resolve))
  }

  /**
   * Resolves when every COPY has ended and every rebuild sent so far is done; only then may
   * anything else be sent on the connection. Rejects with the first failure on the connection.
   * Gives the server's checksums, in table order, still to come, the source's checksums of the
   * same rows (every table's, once the scan heard them all), and the statements that
   * re-create the keys and indexes not yet rebuilt (those of tables the scan does not read, and
   * of a table whose rows were not all heard).
   */
  async copied(): Promise<{ checksums: { target: Promise<Checksum[]>; source: Checksum[] }; rebuilds: string[] }> {
    await this.tail
    if (this.failure !== undefined) throw this.failure
    return { checksums: { target: Promise.all(this.sums), source: this.sourceSums }, rebuilds: this.pending.map((r) => r.sql) }
  }

  /** Abandons the copy (a COPY in progress is failed); the transaction must then be rolled back. */
  async abort(): Promise<void> {
    this.aborted = true
    this.copy?.abort()
    await this.tail
    await Promise.allSettled(this.sums)
  }

  private queue(step: () => Promise<void>): void {
    this.tail = this.tail.then(async () => {
      try {
        if (!this.aborted && this.failure === undefined) await step()
      } catch (error) {
        this.failure = error
        this.copy?.abort()
      }
      // A COPY opened just as the scan stopped.
      if (this.aborted) this.copy?.abort()
    })
  }
}
