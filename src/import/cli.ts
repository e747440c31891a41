import { parseArgs } from 'node:util'
import { loadConfig } from '../config'
import { openPGlite } from '../db/database'
import { type ImportOptions, importLegacyFile } from './run'
import { type Target, pgliteTarget, serverTarget } from './target'

export const usage = `Usage: bun scripts/migrate-sqlite-to-postgres.ts [options] <gearbox.db>
       bun run db:import-sqlite [options] <gearbox.db>

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

Options:
  --dry-run            scan and show what would be copied; touch no database
  --replace            replace data the target already holds (in the same transaction);
                       without it a target with anything beyond a fresh install is refused
  --skip-invalid       leave out rows with problems (and rows that belong to them) instead
                       of refusing; requires --rejects
  --rejects <file>     write every left-out row, whole, as JSON lines to <file>
  --report <file>      write the outcome (problems, tables, checksums) as JSON to <file>
  -h, --help           show this help

After the copy, every table's row count and a checksum over all its values (in id order)
are computed on both sides independently and compared; only a full match commits.

Exit status: 0 imported and verified (or dry run without problems), 1 refused (problems,
target not empty, verification failed), 2 not a GearBox SQLite file or bad usage.
`

/** Runs the command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let args
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        'dry-run': { type: 'boolean' },
        replace: { type: 'boolean' },
        'skip-invalid': { type: 'boolean' },
        rejects: { type: 'string' },
        report: { type: 'string' },
      },
    })
  } catch (error) {
    return usageError((error as Error).message)
  }
  const { values, positionals } = args
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  if (positionals.length !== 1) return usageError('give exactly one SQLite file')
  if (values['skip-invalid'] && !values.rejects) return usageError('--skip-invalid needs --rejects <file>: left-out rows are never dropped silently')

  const options: ImportOptions = {
    file: positionals[0]!,
    openTarget,
    skipInvalid: values['skip-invalid'],
    rejectsPath: values.rejects,
    dryRun: values['dry-run'],
    replace: values.replace,
    reportPath: values.report,
    out: process.stdout,
    err: process.stderr,
    progress: process.stderr,
  }
  try {
    return (await importLegacyFile(options)).exitCode
  } catch (error) {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\nnothing was written\n`)
    return 1
  }
}

function openTarget(): Target {
  const { database } = loadConfig()
  if (database.kind === 'postgres') return serverTarget(database)
  return pgliteTarget(openPGlite(database.dataDir), `the embedded database in ${database.dataDir}`)
}

function usageError(message: string): number {
  process.stderr.write(`error: ${message}\nRun with --help for usage.\n`)
  return 2
}
