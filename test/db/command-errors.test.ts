import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { backupTo, openBackupDatabase, writeImages } from '../support/backup'
import { createServerDatabase, serverUrl } from '../support/database'
import { freePort } from '../support/ports'
import { runScript, waitForLine } from '../support/process'
import { tempDir, useTempDir } from '../support/temp-dir'

/** A path in the temporary directory that nothing has yet: `<prefix><pid>-<random>`. */
const uniqueTempPath = (prefix: string) => path.join(tmpdir(), `${prefix}${process.pid}-${crypto.randomUUID().slice(0, 8)}`)

const commands: [string, string[]][] = [
  ['migrate:list', []],
  ['migrate:latest', []],
  ['migrate:down', []],
  ['migrate:status', []],
  ['db:validate', []],
  ['db:backup', ['unused.tar.gz']],
]

describe('every migrate:* and db:* command against an unreachable DATABASE_URL', () => {
  const port = freePort()
  const url = `postgres://gearbox:s3cret@127.0.0.1:${port}/gearbox`
  for (const [script, args] of commands) {
    test(`${script}: one line naming the variable, host and port, and the cause; no password`, async () => {
      const result = await runScript(script, args, { DATABASE_URL: url })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toEqual([
        expect.stringMatching(
          new RegExp(
            `^(error: )?DATABASE_URL: cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port} \\(postgres://gearbox@127\\.0\\.0\\.1:${port}/gearbox\\): connection refused \\(ECONNREFUSED\\)$`,
          ),
        ),
      ])
      expect(result.stdout).not.toContain('s3cret')
    }, 60_000)
  }
})

describe('every command that touches a database says which one', () => {
  const sharedDataDir = useTempDir('which')

  test('the embedded database: its directory', async () => {
    const dataDir = sharedDataDir()
    const env = { GEARBOX_DATA_DIR: dataDir }
    const latest = await runScript('migrate:latest', [], env)
    expect(latest.stdout.split('\n')[0]).toBe(`database: the embedded database in ${dataDir}/db`)
    const status = await runScript('migrate:status', [], env)
    expect(status.stdout.split('\n')[0]).toBe(`migrations of the embedded database in ${dataDir}/db`)
    expect(status.stdout).toMatch(/\n {2}applied {2}20261122050100_create_catalog {2}\d{4}-\d\d-\d\dT/)
    expect(status.exitCode).toBe(0)
    const backup = await runScript('db:backup', [path.join(dataDir, 'b.tar.gz')], env)
    expect(backup.stdout.split('\n')[0]).toBe(`backing up the embedded database in ${dataDir}/db and the images in ${dataDir}/uploads to ${dataDir}/b.tar.gz`)
    expect(backup.exitCode).toBe(0)
    const exported = await runScript('db:export-sqlite', [path.join(dataDir, 'out.db')], env)
    expect(exported.stdout.split('\n')[0]).toBe(`exporting the embedded database in ${dataDir}/db to ${dataDir}/out.db`)
    expect(exported.exitCode).toBe(0)
  }, 120_000)

  test.if(!!serverUrl)(
    'a server: its URL without the password; pending migrations listed',
    async () => {
      const server = await createServerDatabase()
      try {
        // The server's own password when it has one (the run's embedded server), else any (trust authentication).
        const withPassword = new URL(server.url)
        withPassword.password ||= 's3cret'
        const secret = withPassword.password
        const shown = new URL(server.url)
        shown.password = ''
        const env = { DATABASE_URL: withPassword.toString() }
        const status = await runScript('migrate:status', [], env)
        expect(status.stdout.split('\n')[0]).toBe(`migrations of PostgreSQL ${shown}`)
        expect(status.stdout).toContain('  pending  20261122050100_create_catalog\n')
        expect(status.stdout).toMatch(/\n0 applied, \d+ pending\n$/)
        const list = await runScript('migrate:list', [], env)
        expect(list.stdout.split('\n')[0]).toBe(`database: PostgreSQL ${shown}`)
        const file = path.join(tempDir('which-server'), 'out.db')
        const exported = await runScript('db:export-sqlite', [file], env)
        expect(exported.stdout.split('\n')[0]).toBe(`exporting PostgreSQL ${shown} to ${file}`)
        for (const r of [status, list, exported]) expect(r.stdout + r.stderr.join('\n')).not.toContain(`:${secret}@`)
      } finally {
        await server.drop()
      }
    },
    120_000,
  )

  test('the embedded database in use by a running process: one line, before anything is written', async () => {
    const dataDir = sharedDataDir()
    const env = { GEARBOX_DATA_DIR: dataDir, PORT: String(freePort()) }
    const server = Bun.spawn([process.execPath, 'src/server.ts'], {
      cwd: path.join(import.meta.dir, '../..'),
      env: { ...process.env, DATABASE_URL: '', ...env },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      await waitForLine(server.stdout, /listening on/)
      const backup = await runScript('db:backup', [path.join(dataDir, 'refused.tar.gz')], env)
      expect(backup.exitCode).toBe(1)
      expect(backup.stderr).toEqual([`error: the embedded database ${dataDir}/db is in use by process ${server.pid}; stop it first, or set DATABASE_URL`])
      // As the README runs them: the one line and nothing else (Bun once added `error: "kysely" exited with code 1`).
      const inUse = `the embedded database ${dataDir}/db is in use by process ${server.pid}; stop it first, or set DATABASE_URL`
      for (const script of ['migrate:list', 'migrate:latest', 'migrate:down']) {
        const run = Bun.spawnSync(['npm', 'run', script], {
          cwd: path.join(import.meta.dir, '../..'),
          env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: '', ...env },
        })
        expect({ script, exitCode: run.exitCode, stderr: run.stderr.toString() }).toEqual({ script, exitCode: 1, stderr: `${inUse}\n` })
      }
    } finally {
      server.kill('SIGTERM')
      await server.exited
    }
  }, 120_000)
})

describe('backup files: checked before any database is opened', () => {
  const sharedDir = useTempDir('files')

  test('db:restore of a file that is not a backup: one line, and no embedded database is created', async () => {
    const dir = sharedDir()
    const file = path.join(dir, 'broken.tar.gz')
    writeFileSync(file, 'not a gzip file at all')
    const dataDir = path.join(dir, 'fresh')
    const result = await runScript('db:restore', [file], { GEARBOX_DATA_DIR: dataDir })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toEqual([expect.stringMatching(/^error: .*broken\.tar\.gz is damaged or not a GearBox backup: .*; nothing was written$/)])
    expect(existsSync(path.join(dataDir, 'db'))).toBe(false)
    const missing = await runScript('db:restore', [path.join(dir, 'nowhere.tar.gz')], { GEARBOX_DATA_DIR: dataDir })
    expect(missing.stderr).toEqual([`error: there is no file ${path.join(dir, 'nowhere.tar.gz')}`])
  }, 60_000)

  test('db:backup into a folder that does not exist: one line, before reading anything', async () => {
    const dir = sharedDir()
    const file = path.join(dir, 'no-such-folder', 'gearbox.tar.gz')
    const result = await runScript('db:backup', [file], { GEARBOX_DATA_DIR: path.join(dir, 'unused') })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toEqual([`error: cannot write ${file}: there is no folder ${path.dirname(file)}`])
    expect(existsSync(path.join(dir, 'unused'))).toBe(false)
  }, 60_000)
})

describe('destinations and sources: every problem refused in one line before any database is opened', () => {
  // Named now, made only when a test here runs (a run filtered to other tests makes nothing to leave behind).
  const dir = uniqueTempPath('gearbox-paths-')
  const aFile = path.join(dir, 'a-file')
  beforeAll(() => {
    mkdirSync(dir)
    writeFileSync(aFile, 'not a folder')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const root = path.join(import.meta.dir, '../..')
  const missing = `no-such-folder-${process.pid}`
  // [destination, what is wrong]; the relative one is resolved against the scripts' working directory (the repository).
  const destinations: [string, string][] = [
    [path.join(dir, 'missing', 'out.file'), `there is no folder ${path.join(dir, 'missing')}`],
    [path.join(dir, 'missing', 'deeper', 'out.file'), `there is no folder ${path.join(dir, 'missing', 'deeper')}`],
    [`${missing}/out.file`, `there is no folder ${path.join(root, missing)}`],
    [path.join(aFile, 'out.file'), `${aFile} is not a folder`],
    [dir, 'it names a folder, not a file'],
    [`${path.join(dir, 'missing')}/`, 'it names a folder, not a file'],
    ['/dev/null', 'it is not a regular file'],
    // A folder that exists but takes no new file (root included); EACCES and EROFS take the same path.
    ['/proc/out.file', 'cannot create a file in /proc: it takes no new files (ENOENT)'],
  ]
  const dataDir = path.join(dir, 'data')
  const unreachable = `postgres://gearbox@127.0.0.1:${freePort()}/gearbox`
  const environments: [string, Record<string, string>][] = [
    ['the embedded database', { GEARBOX_DATA_DIR: dataDir }],
    ['a server', { DATABASE_URL: unreachable, GEARBOX_DATA_DIR: dataDir }],
  ]

  /** How `script` with `arg` and `env` ends, and whether it created the embedded database (removed again). */
  async function outcome(script: string, arg: string, env: Record<string, string>) {
    const result = await runScript(script, [arg], env)
    const createdDatabase = existsSync(dataDir)
    rmSync(dataDir, { recursive: true, force: true })
    return { exitCode: result.exitCode, stderr: result.stderr, createdDatabase }
  }
  const refusal = (line: string) => ({ exitCode: 1, stderr: [line], createdDatabase: false })

  for (const script of ['db:backup', 'db:export-sqlite']) {
    for (const [where, env] of environments) {
      test(`${script} on ${where}: every destination that cannot be written`, async () => {
        // The server is unreachable and the embedded database does not exist: a check made after
        // opening either would print another line, and the embedded one would be created.
        const seen = []
        for (const [file] of destinations) seen.push({ file, ...(await outcome(script, file, env)) })
        expect(seen).toEqual(destinations.map(([file, problem]) => ({ file, ...refusal(`error: cannot write ${file}: ${problem}`) })))
      }, 60_000)
    }
    test(`${script}: an embedded database that does not exist is not created`, async () => {
      const result = await runScript(script, [path.join(dir, 'out.file')], { GEARBOX_DATA_DIR: dataDir })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toEqual([
        expect.stringMatching(new RegExp(`^error: there is no embedded database in ${dataDir}/db \\(GEARBOX_DATA_DIR; or set DATABASE_URL\\); nothing to `)),
      ])
      expect(existsSync(dataDir)).toBe(false)
      expect(existsSync(path.join(dir, 'out.file'))).toBe(false)
    }, 60_000)
  }

  test('db:restore of a folder: it says so (it was called a damaged backup)', async () => {
    expect(await outcome('db:restore', dir, { GEARBOX_DATA_DIR: dataDir })).toEqual(refusal(`error: ${dir} is a folder, not a file`))
  })

  test('db:restore with an upload directory that cannot take the images', async () => {
    const env = { GEARBOX_DATA_DIR: dataDir }
    const source = await openBackupDatabase('pglite')
    const backup = path.join(dir, 'backup.tar.gz')
    try {
      await backupTo(source, path.join(dir, 'no-images'), backup)
    } finally {
      await source.close()
    }
    // Before, the restore committed and only then found it could not put the images in place.
    const cases: [string, string][] = [
      [aFile, `${aFile} is not a folder`],
      [path.join(aFile, 'uploads'), `${aFile} is not a folder`],
      ['/proc/uploads', 'cannot create a file in /proc: it takes no new files (ENOENT)'],
    ]
    const seen = []
    for (const [uploads] of cases) seen.push({ uploads, ...(await outcome('db:restore', backup, { ...env, GEARBOX_UPLOAD_DIR: uploads })) })
    expect(seen).toEqual(
      cases.map(([uploads, problem]) => ({
        uploads,
        ...refusal(`error: GEARBOX_UPLOAD_DIR: cannot restore images into ${uploads}: ${problem}; nothing was written`),
      })),
    )
  }, 60_000)
})

describe('migrate:status and db:validate only look', () => {
  const shared = useTempDir('look')
  const nothing: Record<string, string> = { 'migrate:status': 'no migrations applied', 'db:validate': 'nothing to check' }

  for (const script of ['migrate:status', 'db:validate']) {
    test(`${script}: an embedded database that does not exist is refused, not created; an argument is refused`, async () => {
      const dataDir = path.join(shared(), script)
      const missing = await runScript(script, [], { GEARBOX_DATA_DIR: dataDir })
      // Before: a new 39 MB database, exit 0.
      expect([missing.exitCode, missing.stderr]).toEqual([
        1,
        [`error: there is no embedded database in ${dataDir}/db (GEARBOX_DATA_DIR; or set DATABASE_URL); ${nothing[script]}`],
      ])
      expect(existsSync(dataDir)).toBe(false)
      // Before, the argument was ignored and the embedded database looked at.
      const argument = await runScript(script, ['postgres://prod/db'], { GEARBOX_DATA_DIR: dataDir })
      expect([argument.exitCode, argument.stderr[0]]).toEqual([
        2,
        expect.stringMatching(new RegExp(`^error: ${script} takes no arguments; to .* set DATABASE_URL$`)),
      ])
      expect(existsSync(dataDir)).toBe(false)
    }, 60_000)
  }
})

describe('--help says what the command does, no more', () => {
  test('migrate:status: the unknown migrations and exit 1; db:restore: the variables, and what a kill or a lost commit leaves', async () => {
    const status = await runScript('migrate:status', ['--help'], {})
    expect(status.exitCode).toBe(0)
    expect(status.stdout).toContain('unknown migrations')
    expect(status.stdout).toContain('Exit status 1 when the database has applied a migration this version')
    const restore = await runScript('db:restore', ['--help'], {})
    expect(restore.exitCode).toBe(0)
    // Before: "If anything fails, or the process is killed, nothing changes."
    expect(restore.stdout).not.toContain('or the process is killed, nothing changes')
    for (const name of ['DATABASE_URL', 'GEARBOX_UPLOAD_DIR', 'GEARBOX_DATA_DIR', '--replace']) expect(restore.stdout).toContain(name)
  }, 60_000)
})

describe('db:backup and the images the rows name', () => {
  const shared = useTempDir('named-images')
  // stderr without the progress lines.
  const said = (line: string) => /^(error|warning): /.test(line)

  test('an upload dir that is missing, a file, or short of images: refused in one line, or a warning naming each missing image', async () => {
    const dir = shared()
    const source = await openBackupDatabase('pglite')
    const backup = path.join(dir, 'source.tar.gz')
    const [a, b, c] = writeImages(path.join(dir, 'source-uploads'), 3) as [string, string, string]
    try {
      await source.db.insertInto('items').values({ name: 'Tent', category_id: 1, image_filename: a }).execute()
      await source.db.insertInto('items').values({ name: 'Stove', category_id: 1, image_filename: b }).execute()
      const { id } = await source.db.insertInto('threads').values({ name: 'Pack', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
      await source.db.insertInto('thread_candidates').values({ name: 'Pack A', category_id: 1, thread_id: id, image_filename: b }).execute()
      await source.db.insertInto('thread_candidates').values({ name: 'Pack B', category_id: 1, thread_id: id, image_filename: c }).execute()
      await backupTo(source, path.join(dir, 'source-uploads'), backup)
    } finally {
      await source.close()
    }
    const env = { GEARBOX_DATA_DIR: path.join(dir, 'data') }
    expect((await runScript('db:restore', [backup], env)).exitCode).toBe(0)
    const out = path.join(dir, 'out.tar.gz')

    // Before, each of these was exit 0 and "0 images", silently.
    const nowhere = path.join(dir, 'nowhere')
    const missing = await runScript('db:backup', [out], { ...env, GEARBOX_UPLOAD_DIR: nowhere })
    expect([missing.exitCode, missing.stderr.filter(said)]).toEqual([
      1,
      [`error: GEARBOX_UPLOAD_DIR: there is no folder ${nowhere}, and rows name 3 image(s) in it; no backup was written`],
    ])
    expect(existsSync(out)).toBe(false)

    // Before: ENOTDIR: not a directory, scandir …
    const aFile = path.join(dir, 'a-file')
    writeFileSync(aFile, 'not a folder')
    const file = await runScript('db:backup', [out], { ...env, GEARBOX_UPLOAD_DIR: aFile })
    expect([file.exitCode, file.stderr.filter(said)]).toEqual([1, [`error: GEARBOX_UPLOAD_DIR: ${aFile} is not a folder; no backup was written`]])
    expect(existsSync(out)).toBe(false)

    // Two named images gone, and a symbolic link to nothing (before: ENOENT … stat, and no backup at all).
    const uploads = path.join(dir, 'data', 'uploads')
    expect(readdirSync(uploads).sort()).toEqual([a, b, c].sort())
    rmSync(path.join(uploads, b))
    rmSync(path.join(uploads, c))
    symlinkSync(path.join(dir, 'gone.png'), path.join(uploads, 'dangling.png'))
    const short = await runScript('db:backup', [out], env)
    expect(short.exitCode).toBe(0)
    expect(short.stderr.filter(said)).toEqual([
      `warning: skipped ${uploads}/dangling.png: a symbolic link to nothing, not an image`,
      `warning: 2 image(s) that rows name are not in ${uploads}, so not in the backup: ${[`${b} (items 2; thread_candidates 1)`, `${c} (thread_candidates 2)`]
        .sort()
        .join(', ')}`,
    ])
    expect(short.stdout).toMatch(new RegExp(`and 1 images .*; 2 image\\(s\\) that rows name are not in ${uploads} \\(see the warning above\\)\n$`))
    expect(existsSync(out)).toBe(true)
  }, 120_000)
})

describe('db:restore into a database that holds data', () => {
  const dir = uniqueTempPath('gearbox-restore-twice-')
  beforeAll(() => mkdirSync(dir))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('the refusal counts what the database holds, the seeded category too, and says what a fresh install holds', async () => {
    const source = await openBackupDatabase('pglite')
    const backup = path.join(dir, 'backup.tar.gz')
    try {
      const { id } = await source.db.insertInto('categories').values({ name: 'Shelter' }).returning('id').executeTakeFirstOrThrow()
      await source.db.insertInto('items').values({ name: 'Tent', category_id: id }).execute()
      await backupTo(source, path.join(dir, 'no-images'), backup)
    } finally {
      await source.close()
    }
    const env = { GEARBOX_DATA_DIR: path.join(dir, 'data') }
    expect((await runScript('db:restore', [backup], env)).exitCode).toBe(0)
    const second = await runScript('db:restore', [backup], env)
    // Before, it said `categories: 1`, while the database (and GET /api/categories) held two.
    expect([second.exitCode, second.stderr.at(-1)]).toEqual([
      1,
      `error: refused: the embedded database in ${env.GEARBOX_DATA_DIR}/db already holds data beyond a fresh install (categories: 2, items: 1; a fresh install holds only the category Uncategorized); run with --replace to replace it; nothing was written`,
    ])
  }, 120_000)
})

describe('options npm keeps for itself (npm run <script> --option, without --)', () => {
  test('db:restore --replace is refused with the -- form, before any database is opened', () => {
    const dir = tempDir('npm')
    const env = { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: path.join(dir, 'data') }
    const cwd = path.join(import.meta.dir, '../..')
    const replace = Bun.spawnSync(['npm', 'run', '--silent', 'db:restore', '--replace', 'backup.tar.gz'], { cwd, env })
    expect(replace.exitCode).toBe(2)
    expect(replace.stderr.toString()).toContain(
      'npm kept --replace for itself, so it never reached the script; nothing was written. Put the options after --: npm run db:restore -- --replace',
    )
    expect(existsSync(path.join(dir, 'data'))).toBe(false)
  }, 60_000)
})
