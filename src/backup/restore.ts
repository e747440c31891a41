import { lstat, readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { emptyApplicationTables, quoteIdent } from '../db/bulk'
import { CommitUnknownError } from '../db/errors'
import { migrationFiles, migrationStatus } from '../db/migration-status'
import { createMigrator, MIGRATION_LOCK_SQL, migrateToLatest } from '../db/migrator'
import { alreadyInPlace, placeImages, removeImages } from '../import/images'
import { TargetNotEmptyError, targetContents } from '../import/load'
import { type Output, Progress } from '../import/report'
import { type TableVerification, VerificationError } from '../import/verify'
import { type Manifest, readArchive } from './archive'
import { applicationTables, pinSettings, restoreSequences, type TableShape, tableChecksum } from './catalog'
import { type Engine, kyselyInSession, type Session } from './engine'

export interface RestoreOptions {
  engine: Engine
  uploadDir: string
  file: string
  /** Replace what the target holds; without it a target with data is refused. */
  replace: boolean
  progress: Output & { isTTY?: boolean }
}

export interface RestoreResult {
  manifest: Manifest
  verification: TableVerification[]
  /** Migrations applied after the load (the backup was from an older version). */
  migratedForward: string[]
  ms: number
}

/** The backup was made by a newer GearBox, or its history does not fit this version's; nothing was written. */
export class SchemaVersionError extends Error {}

/** The backup's rows break a key (a foreign key, a unique one) when it is re-created; nothing was written. */
export class BrokenRowsError extends Error {}

/** Rethrows a key violation as BrokenRowsError naming the table and the constraint, anything else as it is. */
function brokenRows(error: unknown): never {
  const e = error as { code?: string; constraint_name?: unknown; constraint?: unknown; table_name?: unknown; table?: unknown; detail?: unknown }
  if (e?.code !== '23503' && e?.code !== '23505') throw error
  const constraint = [e.constraint_name, e.constraint].find((v) => typeof v === 'string') ?? 'a key'
  const table = [e.table_name, e.table].find((v) => typeof v === 'string') ?? 'a table'
  const detail = typeof e.detail === 'string' ? `: ${e.detail}` : ''
  throw new BrokenRowsError(`the backup's rows of ${table} break ${constraint}${detail}; nothing was written`, { cause: error })
}

/** The target's schema at the backup's version is not the backup's (a hand-made change); nothing was written. */
export class SchemaMismatchError extends Error {}

/**
 * Restores a backup file (see archive.ts) into the engine's database and `uploadDir`:
 *  1. reads the whole file and checks every SHA-256 (images go to a staging directory
 *     inside `uploadDir`, so putting one in place is a hard link), and refuses when anything
 *     other than the same image is in the way of one (images.ts alreadyInPlace);
 *  2. in ONE transaction: refuses a target holding more than a fresh install unless
 *     `replace`, migrates it to the backup's schema version (up or down), empties it,
 *     loads every table, re-creates keys and indexes (checking every row), sets each
 *     sequence to its high-water mark, compares every table's row count and checksum with
 *     the manifest, migrates forward to this GearBox's latest version and, last before
 *     the commit, puts the staged images in place (placeImages: never replacing a file).
 * Failed before the commit, the database and `uploadDir` are as they were (the images put
 * in place are removed again); killed, at most images no row names yet are left. When the
 * connection is lost while committing (CommitUnknownError), the images stay: the restore may
 * be in the database. Once it is past the refusal of a target with data, it removes the
 * staging directories of killed restores (removeStaleStaging), and nothing else.
 * Throws BackupFileError, ImageError, SchemaVersionError, TargetNotEmptyError,
 * ForeignReferenceError, BrokenRowsError, SchemaMismatchError, VerificationError or CommitUnknownError, each saying what is wrong.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now()
  const progress = new Progress(options.progress, options.progress.isTTY ?? false)
  const uploadDir = path.resolve(options.uploadDir)
  const staging = path.join(uploadDir, `${STAGING_PREFIX}${process.pid}`)
  const placed: string[] = []
  try {
    const { manifest, tables } = await readArchive(options.file, staging)
    progress.step('read and check the backup file', performance.now() - started)
    const hashes = new Map(manifest.images.map((i) => [i.name, i.sha256]))
    const toPlace = manifest.images.filter((i) => !alreadyInPlace(uploadDir, i.name, i.sha256)).map((i) => i.name)
    const files = migrationFiles()
    checkSchemaVersion(manifest.migrations, files)
    const version = manifest.migrations.at(-1)!

    const { verification, migratedForward } = await options.engine.transaction('write', async (session) => {
      // Another restore or import migrating this database goes first (MIGRATION_LOCK_SQL).
      await session.query(MIGRATION_LOCK_SQL)
      await pinSettings(session)
      const db = kyselyInSession(session)
      const listed = manifest.tables.map((t) => t.name)
      const current = await applicationTables(session, listed)
      if (current.length > 0) await session.query(`lock table ${current.map((t) => quoteIdent(t.name)).join(', ')} in access exclusive mode`)
      const contents = await targetContents(
        session,
        current.map((t) => t.name),
      )
      if (contents.beyondFreshInstall && !options.replace) throw new TargetNotEmptyError(contents)
      // Only now that this restore is going to write: what killed restores left behind.
      await removeStaleStaging(uploadDir)

      const { unknown: newer } = await migrationStatus(db)
      if (newer.length > 0)
        throw new SchemaVersionError(
          `${options.engine.name} was migrated by a newer GearBox: migration(s) ${newer.join(', ')} are unknown to this version; restore with that version, or into another database; nothing was written`,
        )
      const { error } = await createMigrator(db).migrateTo(version)
      if (error)
        throw new Error(
          `could not bring ${options.engine.name} to the backup's schema version ${version}: ${error instanceof Error ? error.message : String(error)}`,
        )
      const shapes = await applicationTables(session, listed)
      checkShapes(manifest, shapes, version)
      const loadStarted = performance.now()
      const recreate = await emptyApplicationTables(
        session,
        shapes.map((t) => t.name),
      )
      for (const t of manifest.tables) {
        progress.start(t.name, t.rows)
        await session.copyIn(t.name, t.columns, tables.get(t.name)!)
        progress.advance(t.name, t.rows)
        progress.finish(t.name)
      }
      const keysStarted = performance.now()
      for (const { sql } of recreate) await session.query(sql).catch(brokenRows)
      await restoreSequences(session, manifest.sequences)
      progress.step('keys, indexes and sequences', performance.now() - keysStarted)

      const checkStarted = performance.now()
      const verification = await verify(session, manifest, shapes)
      progress.step('checksums', performance.now() - checkStarted)
      if (verification.some((v) => !v.ok)) throw new VerificationError(verification)

      const migratedForward = files.filter((f) => f > version)
      if (migratedForward.length > 0) {
        const forwardStarted = performance.now()
        await migrateToLatest(db)
        progress.step(`migrate forward (${migratedForward.length})`, performance.now() - forwardStarted)
      }
      progress.step('load', performance.now() - loadStarted)
      // Last before the commit: a failure here still rolls everything back.
      placeImages(toPlace, hashes, uploadDir, placed, staging)
      return { verification, migratedForward }
    })
    return { manifest, verification, migratedForward, ms: performance.now() - started }
  } catch (error) {
    // After a lost COMMIT the rows may be there: the images they name stay.
    if (!(error instanceof CommitUnknownError)) removeImages(placed, uploadDir, staging)
    throw error
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
}

/** The backup's migrations must be this version's first ones: a newer or a diverged history is refused. */
function checkSchemaVersion(backup: string[], files: string[]): void {
  if (backup.length === 0) throw new SchemaVersionError('the backup records no applied migrations; nothing was written')
  const unknown = backup.filter((m) => !files.includes(m))
  if (unknown.length > 0) {
    throw new SchemaVersionError(
      `the backup is from a newer GearBox: its schema has migration(s) ${unknown.join(', ')}, which this version does not know; restore it with that version or a newer one; nothing was written`,
    )
  }
  const expected = files.slice(0, backup.length)
  if (expected.some((m, i) => m !== backup[i])) {
    throw new SchemaVersionError(`the backup's migration history (${backup.join(', ')}) skips migrations this version applies in between; nothing was written`)
  }
}

function checkShapes(manifest: Manifest, shapes: TableShape[], version: string): void {
  const describe = (tables: { name: string; columns: string[] }[]) => tables.map((t) => `${t.name}(${t.columns.join(', ')})`).join('; ')
  if (describe(manifest.tables) !== describe(shapes)) {
    throw new SchemaMismatchError(
      `the target's tables at schema version ${version} are not the backup's (backup: ${describe(manifest.tables)}; target: ${describe(shapes)}); run db:validate on the target; nothing was written`,
    )
  }
}

async function verify(session: Session, manifest: Manifest, shapes: TableShape[]): Promise<TableVerification[]> {
  const results: TableVerification[] = []
  for (const t of manifest.tables) {
    const target = await tableChecksum(session, shapes.find((s) => s.name === t.name)!)
    const source = { rows: t.rows, md5: t.md5 }
    results.push({ table: t.name, ok: source.rows === target.rows && source.md5 === target.md5, source, target })
  }
  return results
}

// A restore's staging directory inside the upload directory, followed by its process id; the
// backup skips names that start with a dot, and GET /uploads serves none.
const STAGING_PREFIX = '.gearbox-restore-'

/**
 * Staging directories of restores that were killed: exactly `<STAGING_PREFIX><pid>` inside the
 * upload directory, or `<upload dir name>.restore-<pid>` next to it (where versions before
 * 2026-12-03 staged), a folder whose pid is a number a process can have and no process is
 * running as. Anything else with a similar name (`uploads.restore-before`, an admin's copy) is
 * never touched.
 */
async function removeStaleStaging(uploadDir: string): Promise<void> {
  for (const [dir, prefix] of [
    [uploadDir, STAGING_PREFIX],
    [path.dirname(uploadDir), `${path.basename(uploadDir)}.restore-`],
  ] as const) {
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      const suffix = name.startsWith(prefix) ? name.slice(prefix.length) : ''
      const pid = Number(suffix)
      // Linux hands out pids up to 2^22; a pid is written without leading zeros.
      if (!/^[1-9]\d*$/.test(suffix) || pid > 4_194_304 || isRunning(pid)) continue
      const info = await lstat(path.join(dir, name)).catch(() => undefined)
      if (info?.isDirectory()) await rm(path.join(dir, name), { recursive: true, force: true })
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
