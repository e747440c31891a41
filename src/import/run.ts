import { type TableVerification, TargetNotEmptyError, VerificationError, loadPlan } from './load'
import { planImport } from './plan'
import type { Problem } from './problems'
import { type Output, Progress, type TableSummary, formatProblems, formatSummary, formatVerification, writeJson, writeRejects } from './report'
import { LegacyFileError, openLegacyFile, scanLegacyFile } from './scan'
import type { Target } from './target'

export interface ImportOptions {
  file: string
  /** Opened only when something is to be written (never for a dry run or a refused file). */
  openTarget: () => Target
  skipInvalid?: boolean
  rejectsPath?: string
  dryRun?: boolean
  replace?: boolean
  reportPath?: string
  out: Output
  /** The final message of a failed run goes here (default: out). */
  err?: Output
  /** Progress goes here; a terminal gets a progress bar. */
  progress: Output & { isTTY?: boolean }
}

export type ImportStatus = 'imported' | 'dry-run' | 'not-gearbox' | 'refused' | 'target-not-empty' | 'verification-failed'

export interface ImportOutcome {
  status: ImportStatus
  exitCode: number
  message: string
  problems: Problem[]
  tables: TableSummary[]
  verification: TableVerification[]
}

/**
 * The whole import: scan the legacy file, refuse it (or leave out the offending rows with
 * skipInvalid), then copy everything in one transaction and verify it before committing.
 */
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

export async function importLegacyFile(options: ImportOptions): Promise<ImportOutcome> {
  const { out } = options
  const outcome = (status: ImportStatus, exitCode: number, message: string, rest: Partial<ImportOutcome> = {}): ImportOutcome => {
    const result = { status, exitCode, message, problems: [], tables: [], verification: [], ...rest }
    if (options.reportPath) writeJson(options.reportPath, { file: options.file, ...result })
    ;(exitCode === 0 ? out : (options.err ?? out)).write(`${message}\n`)
    return result
  }

  const started = performance.now()
  let scan
  try {
    const db = openLegacyFile(options.file)
    try {
      scan = scanLegacyFile(db)
    } finally {
      db.close()
    }
  } catch (error) {
    if (error instanceof LegacyFileError) return outcome('not-gearbox', 2, `error: ${error.message}`)
    throw error
  }
  const { problems } = scan
  const scanMs = performance.now() - started
  if (problems.length > 0) {
    out.write(`${formatProblems(problems)}\n`)
    if (!options.skipInvalid) {
      return outcome('refused', 1, `refused: ${problems.length} problem(s) in ${options.file}; nothing was written. Fix them, or run with --skip-invalid --rejects <file> to leave those rows out.`, { problems })
    }
  }

  const plan = planImport(scan, options.skipInvalid ?? false)
  const rejectedCount = plan.reduce((n, t) => n + t.rejected.length, 0)
  if (rejectedCount > 0 && options.rejectsPath) writeRejects(options.rejectsPath, plan)
  const leftOut = plan.flatMap((t) => t.rejected.flatMap((r) => r.reasons))
  const tables = (times?: Map<string, number>): TableSummary[] =>
    plan.map((t) => ({ table: t.spec.name, rows: t.rows.length, rejected: t.rejected.length, ms: times?.get(t.spec.name) ?? 0 }))
  const rejectNote = rejectedCount > 0 ? `; ${rejectedCount} row(s) left out${options.rejectsPath ? `, written to ${options.rejectsPath}` : ''}` : ''

  if (options.dryRun) {
    out.write(formatSummary(tables()))
    return outcome('dry-run', 0, `dry run: nothing was written${rejectNote}`, { problems: leftOut, tables: tables() })
  }

  const target = options.openTarget()
  const progress = new Progress(options.progress, options.progress.isTTY ?? false)
  try {
    out.write(`importing ${options.file} into ${target.name}\n`)
    await target.migrate()
    const verification = await target.transaction((session) => loadPlan(session, plan, { replace: options.replace ?? false }, progress))
    const steps = [`scan ${seconds(scanMs)}`, ...[...progress.steps].map(([label, ms]) => `${label} ${seconds(ms)}`), `total ${seconds(performance.now() - started)}`]
    out.write(`\n${formatSummary(tables(progress.times))}${steps.join(', ')}\n\nverified (row counts and checksums, source vs target):\n${formatVerification(verification)}\n`)
    return outcome('imported', 0, `imported and verified${rejectNote}`, { problems: leftOut, tables: tables(progress.times), verification })
  } catch (error) {
    if (error instanceof TargetNotEmptyError) return outcome('target-not-empty', 1, `refused: ${error.message}; nothing was written`)
    if (error instanceof VerificationError) {
      out.write(`${formatVerification(error.results)}\n`)
      return outcome('verification-failed', 1, error.message, { verification: error.results })
    }
    throw error
  } finally {
    await target.close()
  }
}
