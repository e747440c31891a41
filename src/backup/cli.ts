import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { parseCommandLine, usageError } from '../command-line'
import { type Config, ConfigError, loadConfig } from '../config'
import { ForeignReferenceError } from '../db/bulk'
import { DatabaseUnavailableError, describeDatabase, failureLine, openCheckedDatabase } from '../db/connection'
import { missingEmbeddedDatabase } from '../db/database'
import { CommitUnknownError } from '../db/errors'
import { migrationStatus } from '../db/migration-status'
import { checkSchema } from '../db/schema-check'
import { unreadableFileProblem, unwritableFileProblem, unwritableFolderProblem } from '../file-checks'
import { ImageError } from '../import/images'
import { TargetNotEmptyError } from '../import/load'
import { formatVerification } from '../import/report'
import { VerificationError } from '../import/verify'
import { BackupFileError, readArchive, StagingError } from './archive'
import { createBackup, UploadDirError } from './backup'
import { openEngine } from './engine'
import { BrokenRowsError, restoreBackup, SchemaMismatchError, SchemaVersionError } from './restore'

/*
 * The command lines of db:backup, db:restore, db:validate and migrate:status. Each names the
 * database it acts on first, and fails with one line saying what is wrong.
 * Exit status: 0 done, 1 refused or failed, 2 bad usage.
 */

const out = process.stdout
const err = process.stderr

const backupUsage = `Usage: npm run db:backup -- [file]

Writes one file with everything this install owns: every table's rows, the schema version
(applied migrations) and the uploaded images, with row counts, checksums and SHA-256s in a
manifest. Default file: gearbox-backup-<UTC time>.tar.gz in the current directory.

Database: DATABASE_URL, or the embedded database in GEARBOX_DATA_DIR when it is unset.
Images: GEARBOX_UPLOAD_DIR (default <GEARBOX_DATA_DIR>/uploads).
On a server the backup is one consistent snapshot taken while GearBox keeps running. The
embedded database can be opened by one process at a time: stop the server first.
`

const restoreUsage = `Usage: npm run db:restore -- [--replace] <file>

Restores a db:backup file into the database and the upload directory, in one transaction:
migrate to the backup's schema version, load, re-check every key, set the id sequences,
verify every table's checksum, migrate forward to this version; images are put in place
just before the commit. If anything fails before the commit, nothing changes; killed, the
database is as it was (images no row names may be left); if the connection is lost while
committing, it cannot tell whether the restore is in: run it again with --replace.

Database: DATABASE_URL, or the embedded database in GEARBOX_DATA_DIR when it is unset.
Images: GEARBOX_UPLOAD_DIR (default <GEARBOX_DATA_DIR>/uploads).

  --replace    replace what the database holds (without it, a database with data is refused)
  -h, --help   show this help
`

/** db:backup; returns the exit status. */
export async function backupMain(argv: string[]): Promise<number> {
  const args = parseCommandLine('db:backup', argv, { help: { type: 'boolean', short: 'h' } } as const, backupUsage)
  if (typeof args === 'number') return args
  if (args.positionals.length > 1) return usageError('give at most one file')
  const file =
    args.positionals[0] ??
    `gearbox-backup-${new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}.tar.gz`
  // Every problem with the destination is found before the database is opened, not after it was read.
  const unwritable = unwritableFileProblem(file)
  if (unwritable) return refuse(unwritable)
  // Nor is an embedded database created only to find it holds nothing.
  const missing = ({ database }: Config) => missingEmbeddedDatabase(database)?.concat('; nothing to back up')
  return withEngine(missing, async (config, engine) => {
    out.write(`backing up ${engine.name} and the images in ${config.uploadDir} to ${file}\n`)
    const result = await createBackup({ engine, uploadDir: config.uploadDir, file, progress: err }).catch((error) => {
      if (error instanceof UploadDirError) throw new Error(`GEARBOX_UPLOAD_DIR: ${error.message}; no backup was written`)
      throw error
    })
    const { manifest, missingImages } = result
    for (const name of result.skipped) err.write(`warning: skipped ${path.join(config.uploadDir, name)}: a symbolic link to nothing, not an image\n`)
    const missing = `${missingImages.length} image(s) that rows name are not in ${config.uploadDir}`
    if (missingImages.length > 0) {
      const named = missingImages.map(
        (m) =>
          `${m.name} (${Object.entries(m.rows)
            .map(([table, ids]) => `${table} ${listed(ids, 5)}`)
            .join('; ')})`,
      )
      err.write(`warning: ${missing}, so not in the backup: ${listed(named, 20)}\n`)
    }
    const rows = manifest.tables.reduce((n, t) => n + t.rows, 0)
    const imageBytes = manifest.images.reduce((n, i) => n + i.bytes, 0)
    out.write(
      `\nbacked up ${rows} rows in ${manifest.tables.length} tables (schema ${manifest.migrations.at(-1)}) and ${manifest.images.length} images (${megabytes(imageBytes)}) ` +
        `to ${file}: ${megabytes(result.bytes)} in ${seconds(result.ms)}${missingImages.length > 0 ? `; ${missing} (see the warning above)` : ''}\n`,
    )
    return 0
  })
}

/** db:restore; returns the exit status. */
export async function restoreMain(argv: string[]): Promise<number> {
  const args = parseCommandLine('db:restore', argv, { replace: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const, restoreUsage)
  if (typeof args === 'number') return args
  if (args.positionals.length !== 1) return usageError('give exactly one backup file')
  const file = args.positionals[0]!
  // The whole file, and where its images go, are checked before the database is opened: a bad
  // file must not even create an empty embedded database.
  const checked = await oneLine(async (config) => {
    const unreadable = unreadableFileProblem(file)
    if (unreadable) throw new BackupFileError(unreadable)
    // Images are staged inside the upload directory (created when missing), then linked into place before the commit.
    const uploads = unwritableFolderProblem(config.uploadDir)
    if (uploads) throw new Error(`GEARBOX_UPLOAD_DIR: cannot restore images into ${config.uploadDir}: ${uploads}; nothing was written`)
    return checkBackupFile(file)
  })
  if (checked !== 0) return checked
  return withEngine(undefined, async (config, engine) => {
    out.write(`restoring ${file} into ${engine.name} and ${config.uploadDir}\n`)
    try {
      const result = await restoreBackup({
        engine,
        uploadDir: config.uploadDir,
        file,
        replace: !!args.values.replace,
        progress: err,
      })
      const { manifest } = result
      const rows = manifest.tables.reduce((n, t) => n + t.rows, 0)
      const forward = result.migratedForward.length > 0 ? `; migrated forward: ${result.migratedForward.join(', ')}` : ''
      out.write(`\nverified (row counts and checksums, backup vs database):\n${formatVerification(result.verification)}\n`)
      out.write(
        `restored and verified ${rows} rows and ${manifest.images.length} images from ${file} (made ${manifest.createdAt} from ${manifest.source.database}) in ${seconds(result.ms)}${forward}\n`,
      )
      return 0
    } catch (error) {
      if (error instanceof VerificationError) out.write(`${formatVerification(error.results)}\n`)
      if (error instanceof CommitUnknownError)
        throw new Error(
          `the connection to ${engine.name} was lost while committing the restore: it may or may not be in the database, and its images stay in ${config.uploadDir}. ` +
            'Run it again with --replace: whichever happened, the target then holds the backup',
        )
      if (error instanceof BackupFileError) throw new BackupFileError(`${file} is damaged or not a GearBox backup: ${error.message}; nothing was written`)
      if (error instanceof StagingError) throw new Error(`GEARBOX_UPLOAD_DIR: ${error.message}; nothing was written`)
      if (error instanceof ImageError || error instanceof ForeignReferenceError) throw new Error(`refused: ${error.message}; nothing was written`)
      if (error instanceof TargetNotEmptyError)
        throw new Error(
          `refused: ${engine.name} already holds data beyond a fresh install (${error.holdings}); run with --replace to replace it; nothing was written`,
        )
      throw error
    }
  })
}

/** Reads the whole backup file and checks it against its SHA-256s; throws BackupFileError. */
async function checkBackupFile(file: string): Promise<number> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'gearbox-restore-check-'))
  try {
    await readArchive(file, scratch)
  } catch (error) {
    if (error instanceof BackupFileError) throw new BackupFileError(`${file} is damaged or not a GearBox backup: ${error.message}; nothing was written`)
    if (error instanceof StagingError) throw new Error(`cannot check ${file} in the temporary folder: ${error.message}; nothing was written`)
    throw error
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  return 0
}

/** db:validate; returns the exit status (1 when the schema has drifted). */
export async function validateMain(argv: string[]): Promise<number> {
  const usage = `Usage: npm run db:validate\n\nCompares the live schema (tables, columns, constraints, indexes, migration history) with what\nthe migrations produce, and prints every difference. Exit status 1 on any difference.\n`
  const args = parseCommandLine('db:validate', argv, { help: { type: 'boolean', short: 'h' } } as const, usage)
  if (typeof args === 'number') return args
  if (args.positionals.length > 0) return usageError('db:validate takes no arguments; to check a server, set DATABASE_URL')
  return withDatabase('nothing to check', async (config, db) => {
    out.write(`checking the schema of ${describeDatabase(config.database)}\n`)
    const report = await checkSchema(db)
    for (const d of report.differences) out.write(`  ${d}\n`)
    const pending = report.pending.length > 0 ? `; ${report.pending.length} migration(s) pending (npm run migrate:latest): ${report.pending.join(', ')}` : ''
    if (report.differences.length > 0) {
      out.write(
        `schema drift: ${report.differences.length} difference(s) from what the migrations produce${report.comparedAt ? ` up to ${report.comparedAt}` : ''}${pending}\n`,
      )
      return 1
    }
    out.write(`schema ok: as the migrations produce it${report.comparedAt ? ` up to ${report.comparedAt}` : ' (no migrations applied)'}${pending}\n`)
    return 0
  })
}

/** migrate:status; returns the exit status (1 when the database has applied migrations this version does not know). */
export async function statusMain(argv: string[]): Promise<number> {
  const args = parseCommandLine(
    'migrate:status',
    argv,
    { help: { type: 'boolean', short: 'h' } } as const,
    'Usage: npm run migrate:status\n\nApplied (with when), pending and unknown migrations of the database (DATABASE_URL, or the embedded\ndatabase in GEARBOX_DATA_DIR). Exit status 1 when the database has applied a migration this version\ndoes not know (made by a newer GearBox).\n',
  )
  if (typeof args === 'number') return args
  if (args.positionals.length > 0) return usageError('migrate:status takes no arguments; to look at a server, set DATABASE_URL')
  return withDatabase('no migrations applied', async (config, db) => {
    out.write(`migrations of ${describeDatabase(config.database)}\n`)
    const status = await migrationStatus(db)
    const unknown = new Set(status.unknown)
    for (const m of status.applied)
      out.write(
        `  ${unknown.has(m.name) ? 'unknown' : 'applied'}  ${m.name}  ${m.appliedAt}${unknown.has(m.name) ? '  (no file in migrations/: made by a newer GearBox?)' : ''}\n`,
      )
    for (const name of status.pending) out.write(`  pending  ${name}\n`)
    out.write(`${status.applied.length} applied, ${status.pending.length} pending${status.unknown.length > 0 ? `, ${status.unknown.length} unknown` : ''}\n`)
    return status.unknown.length > 0 ? 1 : 0
  })
}

/** One line on stderr, exit status 1. */
function refuse(message: string): number {
  err.write(`error: ${message}\n`)
  return 1
}

/** Loads the configuration and runs `work`; any failure becomes one line on stderr and exit status 1. */
async function oneLine(work: (config: Config) => Promise<number>): Promise<number> {
  let config: Config | undefined
  try {
    config = loadConfig()
    return await work(config)
  } catch (error) {
    const known = [ConfigError, DatabaseUnavailableError, BackupFileError, SchemaVersionError, SchemaMismatchError, BrokenRowsError, VerificationError]
    const message = config ? failureLine(config.database, error) : error instanceof Error ? error.message : String(error)
    // An unexpected error keeps its first line: the message, never a stack trace.
    err.write(`error: ${known.some((k) => error instanceof k) ? message : message.split('\n')[0]}\n`)
    return 1
  }
}

/** Like oneLine, with the database open; `problem` (one line, or undefined) may refuse the run before it is opened. */
function withEngine(
  problem: ((config: Config) => string | undefined) | undefined,
  work: (config: Config, engine: Awaited<ReturnType<typeof openEngine>>) => Promise<number>,
): Promise<number> {
  return oneLine(async (config) => {
    const refused = problem?.(config)
    if (refused) throw new Error(refused)
    const engine = await openEngine(config.database)
    try {
      return await work(config, engine)
    } finally {
      await engine.close()
    }
  })
}

/**
 * Like oneLine, with the database open; an embedded database that does not exist is refused
 * (`<missing>; <nothing>`), never created only to be looked at.
 */
function withDatabase(nothing: string, work: (config: Config, db: Awaited<ReturnType<typeof openCheckedDatabase>>) => Promise<number>): Promise<number> {
  return oneLine(async (config) => {
    const missing = missingEmbeddedDatabase(config.database)
    if (missing) throw new Error(`${missing}; ${nothing}`)
    const db = await openCheckedDatabase(config.database)
    try {
      return await work(config, db)
    } finally {
      await db.destroy()
    }
  })
}

/** The first `most` of `values`, comma-separated, then how many more. */
const listed = (values: unknown[], most: number) => values.slice(0, most).join(', ') + (values.length > most ? `, … (${values.length - most} more)` : '')
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`
