// Times db:backup and db:restore on the legacy-file generator's data set, on a server and
// on the embedded database, and prints the backup's size.
//   bun scripts/bench-backup.ts [rows=500000]
// Needs a server: BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (an admin URL; fresh
// databases are created and dropped on it).
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServerDatabase } from '../test/support/database'
import { helpOnRequest } from './bench/help'
import { writeLargeLegacyFile } from './large-legacy-file'

helpOnRequest(import.meta.path)

const rows = Number(process.argv[2] ?? 500_000)
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
if (!adminUrl) {
  console.error('error: set BENCH_DATABASE_URL (or TEST_DATABASE_URL / DATABASE_URL) to a PostgreSQL admin URL')
  process.exit(2)
}
const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-bench-backup-'))
const root = path.join(import.meta.dir, '..')

/** Runs a package.json script as a user would; returns wall-clock seconds. */
function run(script: string, args: string[], env: Record<string, string>): number {
  const started = performance.now()
  const result = Bun.spawnSync([process.execPath, 'run', script, ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', ...env } })
  const seconds = (performance.now() - started) / 1000
  if (result.exitCode !== 0) throw new Error(`${script} failed:\n${result.stderr.toString()}${result.stdout.toString()}`)
  return seconds
}

const server = await createServerDatabase(adminUrl)
const target = await createServerDatabase(adminUrl)
try {
  const file = path.join(dir, 'gearbox.db')
  writeLargeLegacyFile(file, rows)
  const uploads = { GEARBOX_UPLOAD_DIR: path.join(dir, 'uploads') }
  run('db:import-sqlite', [file], { DATABASE_URL: server.url })
  console.log(`${rows} rows imported into a server database`)

  const fromServer = path.join(dir, 'server.tar.gz')
  const serverBackup = run('db:backup', [fromServer], { DATABASE_URL: server.url, ...uploads })
  const serverRestore = run('db:restore', [fromServer], { DATABASE_URL: target.url, GEARBOX_UPLOAD_DIR: path.join(dir, 'uploads-2') })
  const embedded = { GEARBOX_DATA_DIR: path.join(dir, 'embedded'), ...uploads }
  const embeddedRestore = run('db:restore', [fromServer], embedded)
  const fromEmbedded = path.join(dir, 'embedded.tar.gz')
  const embeddedBackup = run('db:backup', [fromEmbedded], embedded)
  const mb = (f: string) => `${(statSync(f).size / 1e6).toFixed(1)} MB`

  console.log(`\n${rows} rows, wall clock including start-up:`)
  console.log(`  db:backup  from PostgreSQL 15:       ${serverBackup.toFixed(2)} s, file ${mb(fromServer)}`)
  console.log(`  db:restore into PostgreSQL 15:       ${serverRestore.toFixed(2)} s`)
  console.log(`  db:restore into the embedded PGlite: ${embeddedRestore.toFixed(2)} s`)
  console.log(`  db:backup  from the embedded PGlite: ${embeddedBackup.toFixed(2)} s, file ${mb(fromEmbedded)}`)
  console.log(`  legacy SQLite file: ${mb(file)}`)
} finally {
  await server.drop()
  await target.drop()
  rmSync(dir, { recursive: true, force: true })
}
