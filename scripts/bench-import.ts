// Times the SQLite import against pgloader's default SQLite load of the same file.
//   bun scripts/bench-import.ts [rows=546000] [runs=3]
// Needs a server: BENCH_DATABASE_URL, TEST_DATABASE_URL or DATABASE_URL (an admin URL; fresh
// databases are created and dropped on it). pgloader is timed when it is installed.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import postgres from 'postgres'
import { helpOnRequest } from './bench/help'
import { writeLargeLegacyFile } from './large-legacy-file'

helpOnRequest(import.meta.path)

const rows = Number(process.argv[2] ?? 546_000)
const runs = Number(process.argv[3] ?? 3)
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || process.env.DATABASE_URL
if (!adminUrl) {
  console.error('error: set BENCH_DATABASE_URL (or TEST_DATABASE_URL / DATABASE_URL) to a PostgreSQL admin URL')
  process.exit(2)
}
const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-bench-'))
const file = path.join(dir, 'gearbox.db')
const script = path.join(import.meta.dir, 'migrate-sqlite-to-postgres.ts')
const pgloader = Bun.which('pgloader')

/** Runs `command` against a fresh database; returns wall-clock seconds. */
async function timeInFreshDatabase(command: (url: string) => string[], env: (url: string) => Record<string, string> = () => ({})) {
  const name = `gearbox_bench_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = postgres(adminUrl!, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const target = new URL(adminUrl!)
  target.pathname = `/${name}`
  const url = target.toString()
  try {
    const started = performance.now()
    const result = Bun.spawnSync(command(url), { env: { ...process.env, ...env(url) } })
    const seconds = (performance.now() - started) / 1000
    if (result.exitCode !== 0) throw new Error(`${command(url)[0]} failed:\n${result.stderr.toString()}${result.stdout.toString()}`)
    return seconds
  } finally {
    await admin.unsafe(`drop database if exists ${name} with (force)`)
    await admin.end()
  }
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)]!

try {
  const started = performance.now()
  writeLargeLegacyFile(file, rows)
  console.log(`legacy file: ${rows} rows (${((performance.now() - started) / 1000).toFixed(1)} s to build)`)
  const ours: number[] = []
  const theirs: number[] = []
  for (let run = 1; run <= runs; run++) {
    ours.push(
      await timeInFreshDatabase(
        () => [process.execPath, script, file],
        (url) => ({ DATABASE_URL: url }),
      ),
    )
    if (pgloader) theirs.push(await timeInFreshDatabase((url) => [pgloader, file, url]))
    console.log(`run ${run}: import ${ours.at(-1)!.toFixed(2)} s${pgloader ? `, pgloader ${theirs.at(-1)!.toFixed(2)} s` : ''}`)
  }
  const a = median(ours)
  console.log(`\nmedian of ${runs}, fresh database each time, wall clock including start-up:`)
  console.log(`  gearbox import (scan + migrate + COPY + verify): ${a.toFixed(2)} s (${Math.round(rows / a)} rows/s)`)
  if (pgloader) {
    const b = median(theirs)
    console.log(`  pgloader (default SQLite load):                 ${b.toFixed(2)} s (${Math.round(rows / b)} rows/s)`)
    console.log(`  ratio pgloader / import: ${(b / a).toFixed(2)}x`)
    console.log(`  import / pgloader: ${(a / b).toFixed(2)} (goal: <= 0.50)`)
  } else {
    console.log('  pgloader is not installed (apt-get install pgloader); only the import was timed')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
