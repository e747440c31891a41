import type { Database } from 'bun:sqlite'
import { ForeignReferenceError } from '../db/bulk'
import { CommitUnknownError } from '../db/errors'
import { MIGRATION_LOCK_SQL } from '../db/migrator'
import { checkImages, type ImageCheck, ImageError, imageReferences, placeImages, removeImages, stageImages } from './images'
import { emptyTarget, TargetNotEmptyError } from './load'
import { type PlannedTable, planImport } from './plan'
import type { Problem } from './problems'
import { formatProblems, formatSummary, formatVerification, type Output, Progress, type TableSummary, writeJson, writeRejects } from './report'
import { LegacyFileError, openLegacyFile, type ScanResult, scanLegacyFile } from './scan'
import type { Target, TargetSession } from './target'
import { loadAndVerify, StreamingLoad, verifyAndFinish } from './transfer'
import { type TableVerification, VerificationError } from './verify'

export interface ImportOptions {
  file: string
  /** Opened only when something is to be written (never for a dry run or a refused file). */
  openTarget: () => Target
  skipInvalid?: boolean
  rejectsPath?: string
  dryRun?: boolean
  replace?: boolean
  reportPath?: string
  /** The old app's uploads folder: every image a row names is copied from here. */
  uploads?: string
  /** Where the images go (GEARBOX_UPLOAD_DIR); needed with `uploads`. */
  uploadDir?: string
  /** Move the data without the images the rows name. */
  noImages?: boolean
  out: Output
  /** The final message of a failed run goes here (default: out). */
  err?: Output
  /** Progress goes here; a terminal gets a progress bar. */
  progress: Output & { isTTY?: boolean }
}

/** `failed`: stopped by an error outside the file (the target cannot be reached, say); only the report says so, the error is thrown. */
/** `commit-unknown`: the connection was lost while committing, so the import may or may not be in the target. */
export type ImportStatus = 'imported' | 'dry-run' | 'not-gearbox' | 'refused' | 'target-not-empty' | 'verification-failed' | 'commit-unknown' | 'failed'

/** What happened to the images the rows name. */
export interface ImageSummary {
  /** Distinct names rows refer to. */
  referenced: number
  /** Found in the uploads folder (and, unless a dry run, copied or already in place and verified). */
  copied: number
  missing: number
  /** Files in the uploads folder no row names, left alone. */
  unreferenced: number
  /** Copied images that are not png, jpeg or webp by content, so GearBox does not serve them. */
  unservable: number
  skipped: boolean
}

export interface ImportOutcome {
  status: ImportStatus
  exitCode: number
  message: string
  problems: Problem[]
  tables: TableSummary[]
  verification: TableVerification[]
  images?: ImageSummary
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`

/** What the scan leaves to copy, and how to report it. */
interface Prepared {
  plan: PlannedTable[]
  images?: ImageCheck
  imageSummary: ImageSummary
  /** Every problem the scan found (the rows they concern are left out or kept without their image). */
  problems: Problem[]
  leftOut: Problem[]
  tables: (times?: Map<string, number>) => TableSummary[]
  rejectNote: string
  imagesLine: (copied: string) => string
}

/** Leaves the import's transaction without committing; `result` is what the import does then. */
class Rollback {
  constructor(readonly result: ImportOutcome | Prepared) {}
}

/**
 * The whole import: scan the legacy file and the images its rows name, refuse it (or leave
 * out the offending rows with skipInvalid), then copy everything in one transaction, verify
 * it, put the images in place and commit. Where the target allows (Target.scanDuringLoad) the
 * transaction opens first and each table is copied while the scan reads the next; if the scan
 * finds anything, that transaction is rolled back and the run goes on as if the scan had come
 * first. Throws only for failures outside the file (the target cannot be reached, say);
 * everything else is an outcome.
 */
export async function importLegacyFile(options: ImportOptions): Promise<ImportOutcome> {
  const { out } = options
  const outcome = (status: ImportStatus, exitCode: number, message: string, rest: Partial<ImportOutcome> = {}): ImportOutcome => {
    const result = { status, exitCode, message, problems: [], tables: [], verification: [], ...rest }
    if (options.reportPath) writeJson(options.reportPath, { file: options.file, ...result })
    // A failure is one line on stderr with `error: ` in front, as every command of this project prints one.
    if (exitCode === 0) out.write(`${message}\n`)
    else (options.err ?? out).write(`error: ${message}\n`)
    return result
  }

  const started = performance.now()
  let scanMs = 0
  let scanLabel = 'scan'
  let db: Database
  try {
    db = openLegacyFile(options.file)
  } catch (error) {
    if (error instanceof LegacyFileError) return outcome('not-gearbox', 2, error.message)
    throw error
  }

  /** After the scan: the outcome when the run stops here, or what to copy. */
  const decide = (scan: ScanResult): ImportOutcome | Prepared => {
    const references = imageReferences(scan.tables)
    const names = new Set(references.map((r) => r.name))
    if (names.size > 0 && !options.uploads && !options.noImages) {
      const message = `refused: ${references.length} row(s) name ${names.size} image(s) in the old uploads folder; pass that folder with --uploads <dir>, or run with --no-images to move the data without them; nothing was written`
      return outcome('refused', 1, message)
    }
    const images: ImageCheck | undefined = options.uploads && !options.noImages ? checkImages(references, options.uploads) : undefined
    const imageSummary: ImageSummary = {
      referenced: names.size,
      copied: images?.files.size ?? 0,
      missing: images ? new Set(images.missing.map((m) => m.name)).size : 0,
      unreferenced: images?.unreferenced ?? 0,
      unservable: images?.unservable.length ?? 0,
      skipped: !images,
    }
    const problems = [...scan.problems, ...(images?.problems ?? [])]
    scanMs = performance.now() - started
    if (problems.length > 0) {
      out.write(`${formatProblems(problems)}\n`)
      if (!options.skipInvalid) {
        return outcome(
          'refused',
          1,
          `refused: ${problems.length} problem(s) in ${options.file}; nothing was written. Fix them, or run with --skip-invalid --rejects <file> to leave those rows out.`,
          { problems },
        )
      }
    }

    const plan = planImport(scan, options.skipInvalid ?? false)
    // A row whose image is missing is kept (with --skip-invalid) and listed with the rejects.
    const kept = new Set(images?.missing.length ? plan.flatMap((t) => t.rows) : [])
    const keptWithoutImage = (images?.missing ?? [])
      .map((m, i) => ({ spec: m.table.spec, row: m.table.rows[m.r]!, reasons: [images!.problems[i]!] }))
      .filter((m) => kept.has(m.row))
    const rejectedCount = plan.reduce((n, t) => n + t.rejected.length, 0)
    // Written even when empty: a rejects file left by an earlier run must not pass for this one's.
    if (options.rejectsPath) writeRejects(options.rejectsPath, plan, keptWithoutImage)
    const leftOut = [...plan.flatMap((t) => t.rejected.flatMap((r) => r.reasons)), ...keptWithoutImage.flatMap((m) => m.reasons)]
    const tables = (times?: Map<string, number>): TableSummary[] =>
      plan.map((t) => ({ table: t.spec.name, rows: t.rows.length, rejected: t.rejected.length, ms: times?.get(t.spec.name) ?? 0 }))
    const rejectNote =
      (rejectedCount > 0 ? `; ${rejectedCount} row(s) left out` : '') +
      (keptWithoutImage.length > 0 ? `; ${keptWithoutImage.length} row(s) kept without their image` : '') +
      (rejectedCount + keptWithoutImage.length > 0 && options.rejectsPath ? `, written to ${options.rejectsPath}` : '')
    const imagesLine = (copied: string) =>
      imageSummary.skipped
        ? names.size > 0
          ? `images: not copied (--no-images); ${names.size} image(s) named by the rows are not moved\n`
          : ''
        : `images: ${imageSummary.copied} of ${names.size} ${copied}; ${imageSummary.missing} missing; ${imageSummary.unreferenced} file(s) in ${options.uploads} that no row names, left alone\n` +
          (images?.unservable.length
            ? `images not png, jpeg or webp (${images.unservable.length}), moved like the others, but GearBox does not serve them: ${images.unservable.slice(0, 5).join(', ')}${images.unservable.length > 5 ? ', …' : ''}\n`
            : '')

    if (options.dryRun) {
      out.write(formatSummary(tables()) + imagesLine('would be copied'))
      return outcome('dry-run', 0, `dry run: nothing was written${rejectNote}`, { problems: leftOut, tables: tables(), images: imageSummary })
    }
    return { plan, images, imageSummary, problems, leftOut, tables, rejectNote, imagesLine }
  }

  const uploadDir = options.uploadDir
  let staged: string[] = []
  const placed: string[] = []
  /** Copies the images into the staging folder: undefined, or the outcome of a refusal. */
  const stage = (images: ImageCheck | undefined): ImportOutcome | undefined => {
    if (images && images.files.size > 0 && !uploadDir) throw new Error('importLegacyFile: uploads given without uploadDir')
    try {
      if (images) staged = stageImages(images.files, options.uploads!, uploadDir!)
    } catch (error) {
      removeImages([], uploadDir!)
      if (error instanceof ImageError) return outcome('refused', 1, `refused: ${error.message}; nothing was written`)
      throw error
    }
  }
  const loadOptions = (p: Prepared) => ({
    replace: options.replace ?? false,
    beforeCommit: p.images && (async () => placeImages(staged, p.images!.files, uploadDir!, placed)),
  })

  let target: Target | undefined
  try {
    target = options.dryRun ? undefined : options.openTarget()
    const progress = new Progress(options.progress, options.progress.isTTY ?? false)
    let prepared: Prepared | undefined
    let verification: TableVerification[] | undefined
    if (target?.scanDuringLoad) {
      let notEmpty: TargetNotEmptyError | undefined
      // What the copy reports while the scan may still refuse the file: its lines are shown only
      // once it did not; on a terminal its bar shows meanwhile.
      const held = {
        text: '',
        // Once the scan passed: lines go straight through.
        through: undefined as Output | undefined,
        write(text: string) {
          if (held.through) held.through.write(text)
          else held.text += text
        },
      }
      const copyProgress = new Progress(held, false, options.progress.isTTY ? options.progress : undefined)
      scanLabel = 'migrate, scan and copy'
      const streamed = await target
        .transaction(async (session: TargetSession) => {
          // Another import or restore migrating this database goes first (MIGRATION_LOCK_SQL).
          await session.query(MIGRATION_LOCK_SQL)
          await session.migrate!()
          const restore = await emptyTarget(session, options.replace ?? false).catch((error) => {
            if (!(error instanceof TargetNotEmptyError)) throw error
            notEmpty = error
          })
          copyProgress.step('migrate and empty the target', performance.now() - started)
          const load = restore ? new StreamingLoad(session, copyProgress, restore) : undefined
          const scan = await scanLegacyFile(db, load)
          const decided = decide(scan)
          if (!('plan' in decided) || !restore || !load || decided.problems.length > 0) {
            await load?.abort()
            throw new Rollback(decided)
          }
          out.write(`importing ${options.file} into ${target!.name}\n`)
          options.progress.write(held.text)
          held.through = options.progress
          const refusal = stage(decided.images)
          if (refusal) {
            await load.abort()
            throw new Rollback(refusal)
          }
          prepared = decided
          const waited = performance.now()
          const { checksums, rebuilds } = await load.copied()
          // Only now has every table's copy finished, and its time been taken.
          for (const [table, ms] of copyProgress.times) progress.times.set(table, ms)
          for (const [label, ms] of copyProgress.steps) progress.steps.set(label, ms)
          progress.step('the server finishes the copy, its checksums, keys and indexes', performance.now() - waited)
          return verifyAndFinish(session, decided.plan, rebuilds, checksums, loadOptions(decided), progress)
        })
        .catch((error) => {
          copyProgress.erase()
          if (!(error instanceof Rollback)) throw error
          return error.result
        })
      if (Array.isArray(streamed)) verification = streamed
      else if ('plan' in streamed) prepared = streamed
      else return streamed
      if (notEmpty) {
        out.write(`importing ${options.file} into ${target.name}\n`)
        throw notEmpty
      }
    } else {
      let scan: ScanResult
      try {
        scan = await scanLegacyFile(db)
      } catch (error) {
        if (error instanceof LegacyFileError) return outcome('not-gearbox', 2, error.message)
        throw error
      }
      const decided = decide(scan)
      if (!('plan' in decided)) return decided
      prepared = decided
    }
    const p = prepared!
    if (!verification) {
      const refusal = stage(p.images)
      if (refusal) return refusal
      out.write(`importing ${options.file} into ${target!.name}\n`)
      await target!.migrate()
      verification = await target!.transaction((session) => loadAndVerify(session, p.plan, loadOptions(p), progress))
    }
    const steps = [
      `${scanLabel} ${seconds(scanMs)}`,
      ...[...progress.steps].map(([label, ms]) => `${label} ${seconds(ms)}`),
      `total ${seconds(performance.now() - started)}`,
    ]
    out.write(
      `\n${formatSummary(p.tables(progress.times))}${p.imagesLine(`copied to ${uploadDir} and verified (SHA-256)`)}${steps.join(', ')}\n\nverified (row counts and checksums, source vs target):\n${formatVerification(verification)}\n`,
    )
    return outcome('imported', 0, `imported and verified${p.rejectNote}`, {
      problems: p.leftOut,
      tables: p.tables(progress.times),
      verification,
      images: p.imageSummary,
    })
  } catch (error) {
    if (error instanceof CommitUnknownError) {
      // The rows may be in the target: the images they name stay where they are.
      return outcome(
        'commit-unknown',
        1,
        `the connection to ${target!.name} was lost while committing the import: it may or may not be in the database${placed.length > 0 ? `; its ${placed.length} image(s) stay in ${uploadDir}` : ''}. ` +
          'Run it again with --replace: whichever happened, the target then holds the import',
      )
    }
    if (uploadDir) removeImages(placed, uploadDir)
    if (error instanceof TargetNotEmptyError) return outcome('target-not-empty', 1, `refused: ${error.message}; nothing was written`)
    if (error instanceof ForeignReferenceError) return outcome('refused', 1, `refused: ${error.message}; nothing was written`)
    if (error instanceof VerificationError) {
      out.write(`${formatVerification(error.results)}\n`)
      return outcome('verification-failed', 1, error.message, { verification: error.results })
    }
    if (error instanceof ImageError) return outcome('verification-failed', 1, `verification failed: ${error.message}; nothing was written`)
    // The report of an earlier run must not pass for this one's.
    if (options.reportPath) {
      const message = error instanceof Error ? error.message : String(error)
      writeJson(options.reportPath, { file: options.file, status: 'failed', exitCode: 1, message, problems: [], tables: [], verification: [] })
    }
    throw error
  } finally {
    db.close()
    await target?.close()
  }
}
