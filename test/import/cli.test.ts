import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { legacyDdl, realisticRows, writeLegacyFile } from '../support/legacy-sqlite'

const script = path.join(import.meta.dir, '../../scripts/migrate-sqlite-to-postgres.ts')
let dir: string

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-import-cli-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the command with the embedded database in `dataDir` (DATABASE_URL unset). */
function run(args: string[], dataDir = path.join(dir, 'data')) {
  const result = Bun.spawnSync([process.execPath, script, ...args], {
    env: { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: dataDir },
  })
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

function expectOneLineError(r: ReturnType<typeof run>, message: string) {
  expect(r.code).toBe(2)
  expect(r.stderr.trim().split('\n')).toEqual([message])
  expect(r.stdout).toBe('')
}

describe('the command line', () => {
  test('--help explains every option', () => {
    const r = run(['--help'])
    expect(r.code).toBe(0)
    for (const word of ['Usage', 'DATABASE_URL', '--dry-run', '--replace', '--skip-invalid', '--rejects', '--report', 'read-only', 'Exit status']) {
      expect(r.stdout).toContain(word)
    }
  })

  test('input that is not a GearBox SQLite file gets one clear error and exit 2', () => {
    expectOneLineError(run([path.join(dir, 'missing.db')]), `error: ${path.join(dir, 'missing.db')}: no such file`)

    const text = path.join(dir, 'notes.txt')
    writeFileSync(text, 'hello, this is not a database\n'.repeat(100))
    expectOneLineError(run([text]), `error: ${text}: not a SQLite database`)

    const other = path.join(dir, 'other.db')
    const db = new Database(other, { create: true })
    db.exec('create table todo (id integer primary key, title text)')
    db.close()
    const r = run([other])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a GearBox database (table categories; table items;')
    expect(r.stderr).toContain('unknown table(s) todo')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)

    const old = path.join(dir, 'old.db')
    writeLegacyFile(old, {}, '', legacyDdl.replace('  `quantity` integer DEFAULT 1 NOT NULL,\n', ''))
    expectOneLineError(run([old]), `error: ${old}: not a GearBox database (column items.quantity)`)
  })

  test('bad usage gets exit 2', () => {
    expect(run([]).code).toBe(2)
    expect(run(['--bogus', 'x.db']).code).toBe(2)
    const r = run(['--skip-invalid', 'x.db'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--skip-invalid needs --rejects <file>')
  })

  test('--dry-run touches no database', () => {
    const file = path.join(dir, 'dry.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'never-created')
    const r = run(['--dry-run', file], dataDir)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/items\s+5\s+0/)
    expect(r.stdout).toContain('dry run: nothing was written')
    expect(existsSync(dataDir)).toBe(false)
  })

  test('a refused file exits 1 and writes the JSON report', () => {
    const file = path.join(dir, 'bad.db')
    const rows = realisticRows()
    rows.items![0]!.category_id = 42
    writeLegacyFile(file, rows)
    const report = path.join(dir, 'report.json')
    const r = run(['--report', report, file])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('items 1 category_id = 42: categories.id = 42 does not exist')
    expect(r.stderr).toContain('refused: 1 problem(s)')
    expect(JSON.parse(readFileSync(report, 'utf8')).problems).toEqual([
      { kind: 'dangling_reference', table: 'items', id: 1, column: 'category_id', value: 42, message: 'categories.id = 42 does not exist' },
    ])
  })

  test('imports into the embedded database with progress and a summary, then refuses a second run', () => {
    const file = path.join(dir, 'gearbox.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'embedded')
    const first = run([file], dataDir)
    expect(first.code).toBe(0)
    expect(first.stderr).toContain('items: 5 rows copied in')
    expect(first.stdout).toMatch(/table\s+rows\s+rejected\s+time\s+rows\/s/)
    expect(first.stdout).toMatch(/total\s+31\s+0/)
    expect(first.stdout).toContain('ok   items: 5 rows, md5 ')
    expect(first.stdout).toContain('imported and verified')

    const second = run([file], dataDir)
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('refused: the target already holds data')
    expect(run(['--replace', file], dataDir).code).toBe(0)
  }, 120_000)

  test('refuses an embedded database another running process holds, and writes nothing', () => {
    const file = path.join(dir, 'locked.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'in-use')
    // This test process plays the server that holds the database (GEARBOX_DATA_DIR/db).
    mkdirSync(dataDir)
    writeFileSync(path.join(dataDir, 'db.lock'), String(process.pid))
    const r = run([file], dataDir)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`error: the embedded database ${dataDir}/db is in use by process ${process.pid}; stop it first, or set DATABASE_URL`)
    expect(r.stderr).toContain('nothing was written')
    expect(existsSync(path.join(dataDir, 'db', 'PG_VERSION'))).toBe(false)
  })
})
