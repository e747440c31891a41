import { statSync } from 'node:fs'
import { parseCommandLine, usageError } from '../command-line'
import { type Config, loadConfig } from '../config'
import { describeDatabase, failureLine } from '../db/connection'
import { missingEmbeddedDatabase, openPGlite } from '../db/database'
import { unwritableFileProblem } from '../file-checks'
import { exportLegacyFile } from './export'
import { type ImportOptions, importLegacyFile } from './run'
import { pgliteTarget, serverTarget, type Target } from './target'

export const usage = `Usage: npm run db:import-sqlite -- [options] <gearbox.db>
       npx bun scripts/migrate-sqlite-to-postgres.ts [options] <gearbox.db>

Moves a legacy GearBox SQLite file into PostgreSQL, once: every table, row and value,
ids kept, all in one transaction, verified before it commits.

Target: the server in DATABASE_URL, or the embedded database (GEARBOX_DATA_DIR, default
./data) when DATABASE_URL is unset. The target schema is migrated to the latest version
first. The SQLite file is opened read-only and never changed.

The whole file is scanned before anything is written. Any problem (a reference to a row
that does not exist, text in a number column, a timestamp in milliseconds, a value outside
its allowed set, a NUL character, invalid JSON, a duplicate, anything the target's
constraints would reject) stops the import: every problem is listed, grouped by kind, and
nothing is written.

Images: items and thread candidates name files in the old app's uploads folder. Give that
folder with --uploads: every image a row names is copied into GEARBOX_UPLOAD_DIR (default
<GEARBOX_DATA_DIR>/uploads) under the same name, checked by SHA-256, and put in place only
when the transaction commits. A named image that is missing is a problem like any other.
Files in the folder that no row names are counted and left alone.

Options:
  --dry-run            scan and show what would be copied; touch no database
  --replace            replace data the target already holds (in the same transaction);
                       without it a target with anything beyond a fresh install is refused
  --skip-invalid       leave out rows with problems (and rows that belong to them) instead
                       of refusing; a row whose image is missing is kept and listed in
                       the rejects file; requires --rejects
  --rejects <file>     write every left-out row, whole, as JSON lines to <file>
  --report <file>      write the outcome (problems, tables, checksums) as JSON to <file>
  --uploads <dir>      the old uploads folder; needed when rows name images
  --no-images          move the data without the images (the summary says so)
  -h, --help           show this help

After the copy, every table's row count and a checksum over all its values (in id order)
are computed on both sides independently and compared; only a full match commits.

Exit status: 0 imported and verified (or dry run without problems), 1 refused (problems,
target not empty, verification failed), 2 not a GearBox SQLite file or bad usage.
`

const importOptions = {
  help: { type: 'boolean', short: 'h' },
  'dry-run': { type: 'boolean' },
  replace: { type: 'boolean' },
  'skip-invalid': { type: 'boolean' },
  rejects: { type: 'string' },
  report: { type: 'string' },
  uploads: { type: 'string' },
  'no-images': { type: 'boolean' },
} as const

/** Runs the command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const args = parseCommandLine('db:import-sqlite', argv, importOptions, usage)
  if (typeof args === 'number') return args
  const { values, positionals } = args
  if (positionals.length !== 1) return usageError('give exactly one SQLite file')
  if (values['skip-invalid'] && !values.rejects) return usageError('--skip-invalid needs --rejects <file>: left-out rows are never dropped silently')
  if (values.uploads && values['no-images']) return usageError('give --uploads <dir> or --no-images, not both')
  if (values.uploads && !statSync(values.uploads, { throwIfNoEntry: false })?.isDirectory()) return usageError(`--uploads ${values.uploads}: no such folder`)
  // The report and the rejects are written after the scan or the import: their paths are checked first.
  for (const option of ['report', 'rejects'] as const) {
    const problem = values[option] === undefined ? undefined : unwritableFileProblem(values[option])
    if (problem) return usageError(`--${option}: ${problem}`)
  }
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    return usageError((error as Error).message)
  }

  const options: ImportOptions = {
    file: positionals[0]!,
    openTarget: () => openTarget(config),
    skipInvalid: values['skip-invalid'],
    rejectsPath: values.rejects,
    dryRun: values['dry-run'] || args.dryRun,
    replace: values.replace,
    reportPath: values.report,
    uploads: values.uploads,
    uploadDir: config.uploadDir,
    noImages: values['no-images'],
    out: process.stdout,
    err: process.stderr,
    progress: process.stderr,
  }
  try {
    return (await importLegacyFile(options)).exitCode
  } catch (error) {
    process.stderr.write(`error: ${failureLine(config.database, error)}\nnothing was written\n`)
    return 1
  }
}

function openTarget({ database }: Config): Target {
  if (database.kind === 'postgres') return serverTarget(database)
  // Opened on first use, so a refused file leaves no data directory behind.
  const name = describeDatabase(database)
  let target: Target | undefined
  const open = () => {
    target ??= pgliteTarget(openPGlite(database.dataDir), name)
    return target
  }
  return {
    name,
    scanDuringLoad: false,
    migrate: () => open().migrate(),
    transaction: (work) => open().transaction(work),
    close: async () => target?.close(),
  }
}

export const exportUsage = `Usage: npm run db:export-sqlite -- [--force] <out.db>
       npx bun scripts/export-postgres-to-sqlite.ts [--force] <out.db>

Writes the GearBox data in PostgreSQL as a legacy GearBox SQLite file, to go back to the
SQLite version of GearBox: the old app's schema, times in seconds, booleans as 0/1, JSON as
text, and sqlite_sequence at the highest id each table ever handed out. Importing that file
gives back the same data.

Source: the server in DATABASE_URL, or the embedded database (GEARBOX_DATA_DIR) when
DATABASE_URL is unset; it is only read. Images stay in GEARBOX_UPLOAD_DIR: copy them back
into the old app's uploads folder. The file has no __drizzle_migrations rows; the old app
needs those of the file you imported (see the README).

Options:
  --force      replace <out.db> if it exists
  -h, --help   show this help

Exit status: 0 exported, 1 refused (the file exists) or failed, 2 bad usage.
`

const exportOptions = {
  help: { type: 'boolean', short: 'h' },
  force: { type: 'boolean' },
} as const

/** Runs the export's command line; returns the exit status. */
export async function exportMain(argv: string[]): Promise<number> {
  const args = parseCommandLine('db:export-sqlite', argv, exportOptions, exportUsage)
  if (typeof args === 'number') return args
  const { values, positionals } = args
  if (positionals.length !== 1) return usageError('give exactly one output file')
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    return usageError((error as Error).message)
  }
  const file = positionals[0]!
  // Checked before the database is read, not found out when the file is written afterwards.
  const problem = unwritableFileProblem(file) ?? missingEmbeddedDatabase(config.database)?.concat('; nothing to export')
  if (problem) {
    process.stderr.write(`error: ${problem}\n`)
    return 1
  }
  try {
    const result = await exportLegacyFile({ file, force: values.force, openTarget: () => openTarget(config), out: process.stdout })
    if (result.status === 'refused') process.stderr.write(`error: ${result.message}\n`)
    return result.exitCode
  } catch (error) {
    process.stderr.write(`error: ${failureLine(config.database, error)}\nno file was written\n`)
    return 1
  }
}
