import { describe, expect, test } from 'bun:test'
import { existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createServerDatabase, serverUrl } from '../support/database'
import { runScript, waitForLine } from '../support/process'
import { tempDir, useTempDir } from '../support/temp-dir'

/** A port where nothing listens (free a moment ago). */
function freePort(): number {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return port
}

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
        for (const r of [status, list]) expect(r.stdout + r.stderr.join('\n')).not.toContain(`:${secret}@`)
      } finally {
        await server.drop()
      }
    },
    120_000,
  )

  test('the embedded database in use by a running process: one line, before anything is written', async () => {
    const dataDir = sharedDataDir()
    const env = { GEARBOX_DATA_DIR: dataDir, PORT: String(21000 + (process.pid % 20000)) }
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
