import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { redactedUrl } from '../../src/db/connection'
import { createServerDatabase, serverUrl } from '../support/database'
import { imageBytes, legacyDdl, realisticRows, uploadsBeside, writeLegacyFile } from '../support/legacy-sqlite'
import { waitForLine } from '../support/process'
import { nthCommit, startRelay } from '../support/relay'

const script = path.join(import.meta.dir, '../../scripts/migrate-sqlite-to-postgres.ts')
const exportScript = path.join(import.meta.dir, '../../scripts/export-postgres-to-sqlite.ts')
let dir: string

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-import-cli-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs the command with the embedded database in `dataDir` (DATABASE_URL unset), after `prefix` (`setpriv …`) if given. */
function run(args: string[], dataDir = path.join(dir, 'data'), prefix: string[] = []) {
  const result = Bun.spawnSync([...prefix, process.execPath, script, ...args], {
    env: { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: dataDir },
  })
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

/**
 * Runs the command without blocking this process (Bun.spawnSync would stop the event loop, and
 * with it a relay this test serves), with `env` added.
 */
async function runAsync(args: string[], env: Record<string, string>) {
  const child = Bun.spawn([process.execPath, script, ...args], { env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [code, stdout, stderr] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()])
  return { code, stdout, stderr }
}

/** A new server database behind a relay with `options` (see startRelay), both gone after `work`. */
async function throughRelay(
  options: Parameters<typeof startRelay>[1],
  work: (target: Awaited<ReturnType<typeof createServerDatabase>>, relay: ReturnType<typeof startRelay>) => Promise<void>,
) {
  const target = await createServerDatabase()
  const relay = startRelay(target.url, options)
  try {
    await work(target, relay)
  } finally {
    relay.stop()
    await target.drop()
  }
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
    expect(r.stderr).toContain('not a GearBox database in the schema this import reads (table categories; table items;')
    expect(r.stderr).toContain('unknown table(s) todo')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)

    const old = path.join(dir, 'old.db')
    writeLegacyFile(old, {}, '', legacyDdl.replace('  `quantity` integer DEFAULT 1 NOT NULL,\n', ''))
    expectOneLineError(
      run([old]),
      `error: ${old}: not a GearBox database in the schema this import reads (column items.quantity); if it is an older GearBox's file, start the old app's last version on it once, which brings its schema up to date`,
    )
  })

  test('bad usage gets exit 2', () => {
    expect(run([]).code).toBe(2)
    expect(run(['--bogus', 'x.db']).code).toBe(2)
    const r = run(['--skip-invalid', 'x.db'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--skip-invalid needs --rejects <file>')
  })

  test('--report and --rejects where no file can be written: refused before the file is read or any database opened', () => {
    const file = path.join(dir, 'report-nowhere.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'not-imported')
    const nowhere = path.join(dir, 'no-such-folder', 'out.json')
    const problem = `cannot write ${nowhere}: there is no folder ${path.dirname(nowhere)}`
    // Before, the report was written after the import had committed, and the rejects not at all.
    const seen = [
      ['--report', nowhere, '--no-images', file],
      ['--skip-invalid', '--rejects', nowhere, '--no-images', file],
    ].map((args) => ({ ...run(args, dataDir), imported: existsSync(dataDir) }))
    expect(seen).toEqual(
      ['report', 'rejects'].map((option) => ({ code: 2, stdout: '', stderr: `error: --${option}: ${problem}\nRun with --help for usage.\n`, imported: false })),
    )
  })

  test('--dry-run touches no database', () => {
    const file = path.join(dir, 'dry.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'never-created')
    const r = run(['--dry-run', '--uploads', uploadsBeside(file), file], dataDir)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/items\s+5\s+0/)
    expect(r.stdout).toContain(`images: 1 of 1 would be copied; 0 missing`)
    expect(r.stdout).toContain('dry run: nothing was written')
    expect(existsSync(dataDir)).toBe(false)
  })

  test('a file in WAL mode without a -wal file, in a folder this user may not write, is read as it is', () => {
    const folder = path.join(dir, 'not-writable')
    mkdirSync(folder)
    const file = path.join(folder, 'gearbox.db')
    writeLegacyFile(file, realisticRows(), 'pragma journal_mode = wal')
    chmodSync(folder, 0o555)
    // root writes through a folder's mode bits: then the import runs as the unprivileged user 65534.
    const asRoot = process.getuid?.() === 0
    if (asRoot) chmodSync(dir, 0o755)
    try {
      // SQLite cannot create the -shm file there: SQLITE_READONLY_DIRECTORY (was refused with exit 2).
      const r = run(
        ['--dry-run', '--no-images', file],
        path.join(dir, 'never-created'),
        asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [],
      )
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/items\s+5\s+0/)
      expect(r.stdout).toContain('dry run: nothing was written')
      expect(readdirSync(folder).sort()).toEqual(['gearbox.db', 'uploads'])
    } finally {
      chmodSync(folder, 0o755)
      if (asRoot) chmodSync(dir, 0o700)
    }
  })

  test('through npm, an option npm keeps for itself never lets the import write', () => {
    const file = path.join(dir, 'npm.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'npm-never-created')
    const npm = (args: string[]) => {
      const r = Bun.spawnSync(['npm', 'run', '--silent', 'db:import-sqlite', ...args], {
        cwd: path.join(import.meta.dir, '../..'),
        env: { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: dataDir },
      })
      return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
    }
    // npm turns --dry-run into npm_config_dry_run and passes only the file: honoured.
    const dry = npm(['--dry-run', '--', '--uploads', uploadsBeside(file), file])
    expect(dry.stdout).toContain('dry run: nothing was written')
    expect(dry.code).toBe(0)
    // npm reads --replace as its own --replace-registry-host: refused, with the -- form.
    const replace = npm(['--replace', file])
    expect(replace.code).toBe(2)
    expect(replace.stderr).toContain(
      'npm kept --replace for itself, so it never reached the script; nothing was written. Put the options after --: npm run db:import-sqlite -- --replace',
    )
    expect(npm(['--', '--dry-run', '--no-images', file]).stdout).toContain('dry run: nothing was written')
    expect(existsSync(dataDir)).toBe(false)
  }, 60_000)

  test.if(!!serverUrl)(
    'a connection lost in the middle of the import: one line naming DATABASE_URL, the server and the cause; nothing written',
    async () => {
      const file = path.join(dir, 'lost.db')
      writeLegacyFile(file, realisticRows())
      // The network fails just as the first COPY goes out.
      await throughRelay({ cutOn: /copy /i }, async (target, relay) => {
        const r = await runAsync(['--no-images', file], { DATABASE_URL: relay.url, DATABASE_CONNECT_TIMEOUT_S: '2' })
        const { port } = new URL(relay.url)
        expect(r.code).toBe(1)
        // After the copy's progress lines, if the scan had passed before the loss was seen (they are held until then).
        expect(r.stderr.trimEnd().split('\n').slice(-2)).toEqual([
          `error: DATABASE_URL: lost the connection to PostgreSQL at 127.0.0.1:${port}: the connection closed (CONNECTION_CLOSED)`,
          'nothing was written',
        ])
        // It was cut at the COPY, having migrated first.
        expect(relay.sent.some((chunk) => /create table/i.test(chunk))).toBe(true)
        // The migrations ran in the import's one transaction: not even a table is left.
        const tables = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_schema = 'public'`.execute(target.db)
        expect(tables.rows).toEqual([{ n: 0 }])
      })
    },
    60_000,
  )

  test.if(!!serverUrl)(
    'a connection lost while committing: the outcome is unknown, so the images the rows may name stay, and the message says what to do',
    async () => {
      const file = path.join(dir, 'lost-commit.db')
      writeLegacyFile(file, realisticRows())
      const uploadDir = path.join(dir, 'lost-commit-uploads')
      // The server commits; its answer never reaches the import.
      await throughRelay({ cutAfter: nthCommit(1) }, async (target, relay) => {
        const r = await runAsync(['--uploads', uploadsBeside(file), file], { DATABASE_URL: relay.url, GEARBOX_UPLOAD_DIR: uploadDir })
        expect(r.code).toBe(1)
        const stderr = r.stderr.trim().split('\n').at(-1)
        expect(stderr).toStartWith('error: the connection to PostgreSQL ')
        expect(stderr).toContain(`was lost while committing the import: it may or may not be in the database; its 1 image(s) stay in ${uploadDir}.`)
        expect(stderr).toContain('Run it again with --replace: whichever happened, the target then holds the import')
        expect(stderr).not.toContain('nothing was written')
        // It was committed: the rows are there, and so is the image they name.
        const items = await sql<{ image_filename: string | null }>`select image_filename from items where image_filename is not null`.execute(target.db)
        expect(items.rows.length).toBeGreaterThan(0)
        for (const { image_filename } of items.rows) expect(existsSync(path.join(uploadDir, image_filename!))).toBe(true)
        // Run again with --replace (straight to the server): imported and verified.
        const again = await runAsync(['--replace', '--uploads', uploadsBeside(file), file], { DATABASE_URL: target.url, GEARBOX_UPLOAD_DIR: uploadDir })
        expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('imported and verified')])
      })
    },
    60_000,
  )

  test.if(!!serverUrl)(
    'a database that does not exist: one line naming DATABASE_URL, the server and the cause',
    async () => {
      const file = path.join(dir, 'nowhere.db')
      writeLegacyFile(file, realisticRows())
      const url = new URL(serverUrl!)
      url.pathname = '/gearbox_no_such_database'
      const r = await runAsync(['--no-images', file], { DATABASE_URL: url.toString() })
      expect(r.code).toBe(1)
      expect(r.stderr.trim().split('\n').slice(-2)).toEqual([
        `error: DATABASE_URL: cannot connect to PostgreSQL at ${url.hostname}:${url.port || 5432} (${redactedUrl(url.toString())}): database "gearbox_no_such_database" does not exist (3D000)`,
        'nothing was written',
      ])
    },
    60_000,
  )

  test.if(!!serverUrl)(
    'two imports at once into a new database: one imports, the other waits for it and is refused as the target now holds data',
    async () => {
      const file = path.join(dir, 'twice.db')
      writeLegacyFile(file, realisticRows())
      const target = await createServerDatabase()
      try {
        const runs = await Promise.all([0, 1].map(() => runAsync(['--no-images', file], { DATABASE_URL: target.url })))
        const byCode = runs.sort((a, b) => a.code - b.code)
        expect(byCode.map((r) => r.code)).toEqual([0, 1])
        expect(byCode[0]!.stdout).toContain('imported and verified')
        expect(byCode[1]!.stderr.trim().split('\n').at(-1)).toStartWith(
          'error: refused: the target already holds data beyond a fresh install (api_keys: 2, categories: 3, ',
        )
      } finally {
        await target.drop()
      }
    },
    60_000,
  )

  test('a file whose rows name images needs the uploads folder, or --no-images', () => {
    const file = path.join(dir, 'images.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'images-data')
    const refused = run([file], dataDir)
    expect(refused.code).toBe(1)
    expect(refused.stderr.trim()).toBe(
      'error: refused: 1 row(s) name 1 image(s) in the old uploads folder; pass that folder with --uploads <dir>, or run with --no-images to move the data without them; nothing was written',
    )
    expect(existsSync(dataDir)).toBe(false)
    expect(run(['--uploads', path.join(dir, 'nowhere'), file], dataDir).stderr).toContain('--uploads ' + path.join(dir, 'nowhere') + ': no such folder')

    const without = run(['--no-images', file], dataDir)
    expect(without.code).toBe(0)
    expect(without.stdout).toContain('images: not copied (--no-images); 1 image(s) named by the rows are not moved')
    expect(existsSync(path.join(dataDir, 'uploads'))).toBe(false)
  }, 60_000)

  test('a refused file exits 1 and writes the JSON report', () => {
    const file = path.join(dir, 'bad.db')
    const rows = realisticRows()
    rows.items![0]!.category_id = 42
    writeLegacyFile(file, rows)
    const report = path.join(dir, 'report.json')
    const r = run(['--report', report, '--uploads', uploadsBeside(file), file])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('items 1 category_id = 42: categories.id = 42 does not exist')
    expect(r.stderr).toContain('error: refused: 1 problem(s)')
    expect(JSON.parse(readFileSync(report, 'utf8')).problems).toEqual([
      { kind: 'dangling_reference', table: 'items', id: 1, column: 'category_id', value: 42, message: 'categories.id = 42 does not exist' },
    ])
  })

  test('imports into the embedded database with progress and a summary, then refuses a second run', () => {
    const file = path.join(dir, 'gearbox.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'embedded')
    const first = run(['--uploads', uploadsBeside(file), file], dataDir)
    expect(first.code).toBe(0)
    expect(readFileSync(path.join(dataDir, 'uploads', 'stove.png')).equals(imageBytes('stove.png'))).toBe(true)
    expect(first.stdout).toContain(`images: 1 of 1 copied to ${dataDir}/uploads and verified (SHA-256); 0 missing; 0 file(s)`)
    expect(first.stderr).toContain('items: 5 rows copied in')
    expect(first.stdout).toMatch(/table\s+rows\s+rejected\s+time\s+rows\/s/)
    expect(first.stdout).toMatch(/total\s+31\s+0/)
    expect(first.stdout).toContain('ok   items: 5 rows, md5 ')
    expect(first.stdout).toContain('imported and verified')

    const second = run(['--no-images', file], dataDir)
    expect(second.code).toBe(1)
    expect(second.stderr).toContain('error: refused: the target already holds data')
    expect(run(['--replace', '--uploads', uploadsBeside(file), file], dataDir).code).toBe(0)
  }, 120_000)

  test('db:export-sqlite writes the embedded database back as a legacy file; npm cannot swallow --force', () => {
    const file = path.join(dir, 'back.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'export-data')
    expect(run(['--no-images', file], dataDir).code).toBe(0)
    const env = { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: dataDir }
    const out = path.join(dir, 'exported.db')
    const exported = Bun.spawnSync([process.execPath, exportScript, out], { env })
    expect(exported.exitCode).toBe(0)
    expect(exported.stdout.toString()).toContain(`exported to ${out}`)
    const db = new Database(out, { readonly: true })
    expect(db.query('select id, name from items order by id').all()).toEqual(realisticRows().items!.map((i) => ({ id: i.id, name: i.name })))
    db.close()

    const again = Bun.spawnSync([process.execPath, exportScript, out], { env })
    expect(again.exitCode).toBe(1)
    expect(again.stderr.toString()).toBe(`error: refused: ${out} already exists; pass --force to replace it\n`)
    // npm keeps --force for itself: refused, the file untouched.
    const before = readFileSync(out)
    const npm = Bun.spawnSync(['npm', 'run', '--silent', 'db:export-sqlite', '--force', out], { cwd: path.join(import.meta.dir, '../..'), env })
    expect(npm.exitCode).toBe(2)
    expect(npm.stderr.toString()).toContain(
      'npm kept --force for itself, so it never reached the script; nothing was written. Put the options after --: npm run db:export-sqlite -- --force',
    )
    expect(readFileSync(out).equals(before)).toBe(true)
    const forced = Bun.spawnSync(['npm', 'run', '--silent', 'db:export-sqlite', '--', '--force', out], { cwd: path.join(import.meta.dir, '../..'), env })
    expect(forced.exitCode).toBe(0)
  }, 120_000)

  test('refuses an embedded database another running process holds, and writes nothing', async () => {
    const file = path.join(dir, 'locked.db')
    writeLegacyFile(file, realisticRows())
    const dataDir = path.join(dir, 'in-use')
    const lockFile = path.join(dataDir, 'db.lock')
    mkdirSync(dataDir)
    // flock(1) plays the server that holds the database (GEARBOX_DATA_DIR/db): it holds the
    // lock file's flock, as the server does, and the file names it.
    const holder = Bun.spawn(['flock', '--exclusive', lockFile, 'sh', '-c', 'echo locked; exec sleep 60'], { stdout: 'pipe' })
    try {
      await waitForLine(holder.stdout, /locked/)
      writeFileSync(lockFile, String(holder.pid))
      const r = run(['--no-images', file], dataDir)
      expect(r.code).toBe(1)
      expect(r.stderr).toContain(`error: the embedded database ${dataDir}/db is in use by process ${holder.pid}; stop it first, or set DATABASE_URL`)
      expect(r.stderr).toContain('nothing was written')
      expect(existsSync(path.join(dataDir, 'db', 'PG_VERSION'))).toBe(false)
    } finally {
      holder.kill('SIGKILL')
      await holder.exited
    }
  })
})
