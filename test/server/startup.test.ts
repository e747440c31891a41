// Start-up as an operator sees it: each step printed, a database that is not up yet waited
// for (a line per attempt naming host, port and cause), and every reason to give up as one
// line naming what is wrong.
import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createServerDatabase, HOOK_TIMEOUT_MS } from '../support/database'
import { type EmbeddedServer, startEmbeddedPostgres } from '../support/embedded-postgres'
import { freePort } from '../support/ports'
import { waitForLine } from '../support/process'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')

function start(env: Record<string, string>, command = ['bun', 'src/server.ts']) {
  return Bun.spawn(command, { cwd: root, env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...env }, stdout: 'pipe', stderr: 'pipe' })
}

/** Runs the server to its end: exit status, stdout's JSON lines, stderr's lines. */
async function runToEnd(env: Record<string, string>, command?: string[]) {
  const child = start(env, command)
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  return {
    status: await child.exited,
    log: out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    stderr: err.split('\n').filter(Boolean),
  }
}

describe('a database that is not up', () => {
  test('each attempt is one line with host, port and cause; after the last, one line and exit 1', async () => {
    const port = freePort()
    const { status, log, stderr } = await runToEnd({
      DATABASE_URL: `postgres://gearbox:secret-password@127.0.0.1:${port}/gearbox`,
      DATABASE_STARTUP_ATTEMPTS: '3',
      DATABASE_STARTUP_RETRY_DELAY_MS: '50',
    })
    expect(status).toBe(1)
    expect(stderr).toEqual([`gearbox: database unreachable at 127.0.0.1:${port} (DATABASE_URL) after 3 attempts: connection refused (ECONNREFUSED)`])
    const retries = log.filter((l) => l.level === 40)
    expect(retries.map((l) => l.msg)).toEqual(
      [1, 2].map((n) => `database not reachable at 127.0.0.1:${port}: connection refused (ECONNREFUSED); attempt ${n} of 3, next in 50 ms`),
    )
    expect(retries[0]).toMatchObject({ host: '127.0.0.1', port, cause: 'connection refused (ECONNREFUSED)', attempt: 1, attempts: 3 })
    expect(JSON.stringify(log)).not.toContain('secret-password')
  })

  let late: EmbeddedServer | undefined
  afterAll(() => late?.stop(), HOOK_TIMEOUT_MS)

  test('a server that comes up while GearBox waits: it connects, migrates and listens', async () => {
    const port = freePort()
    const child = start({
      DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
      DATABASE_STARTUP_ATTEMPTS: '120',
      DATABASE_STARTUP_RETRY_DELAY_MS: '250',
      PORT: String(freePort()),
    })
    try {
      await waitForLine(child.stdout, /attempt 1 of 120/)
      late = await startEmbeddedPostgres(port)
      await waitForLine(child.stdout, /listening on/)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await child.exited).toBe(0)
  }, 120_000)
})

test('start-up prints each step: configuration, database, migrations, listening', async () => {
  const server = await createServerDatabase()
  const child = start({ DATABASE_URL: server.url, PORT: String(freePort()) })
  try {
    const seen = await waitForLine(child.stdout, /listening on/)
    const steps = seen
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).msg)
    const at = (prefix: string) => steps.findIndex((m: string) => m.startsWith(prefix))
    expect(at('configuration loaded')).toBe(0)
    expect(at('opening the database: PostgreSQL at 127.0.0.1:')).toBe(1)
    expect(at('migrating')).toBeGreaterThan(1)
    expect(at('migrations are up to date')).toBeGreaterThan(at('migrating'))
    expect(at('GearBox listening on http://localhost:')).toBe(steps.length - 1)
  } finally {
    child.kill('SIGTERM')
    await child.exited
    await server.drop()
  }
}, 60_000)

test('the embedded database: a first start says it is creating the database before it does; a restart checks the migrations without applying any', async () => {
  const dataDir = tempDir('start')
  const steps = async () => {
    const child = start({ GEARBOX_DATA_DIR: dataDir, PORT: String(freePort()) })
    try {
      return (await waitForLine(child.stdout, /listening on/))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).msg as string)
    } finally {
      child.kill('SIGTERM')
      await child.exited
    }
  }
  const first = await steps()
  const at = (prefix: string) => first.findIndex((m) => m.startsWith(prefix))
  expect(at('creating a new embedded database in')).toBe(at('opening the database: embedded PGlite') + 1)
  expect(at('migrating: applying')).toBeGreaterThan(at('creating a new embedded database in'))
  const again = await steps()
  expect(again.filter((m) => m.startsWith('creating') || m.startsWith('migrating'))).toEqual(['migrating: checking for pending migrations'])
  expect(again).toContain('migrations are up to date')
}, 60_000)

describe('one line for each reason to stop', () => {
  test('the port is in use', async () => {
    const taken = Bun.serve({ port: 0, fetch: () => new Response('') })
    const server = await createServerDatabase()
    try {
      const { status, stderr, log } = await runToEnd({ DATABASE_URL: server.url, PORT: String(taken.port), MIGRATE_ON_START: 'false' })
      expect(status).toBe(1)
      expect(stderr).toEqual([`gearbox: PORT=${taken.port}: the port is already in use (EADDRINUSE)`])
      // The log is written asynchronously; the lines logged just before the exit still arrive.
      expect(log.map((l) => l.msg).at(-1)).toBe('MIGRATE_ON_START=false: not migrating')
    } finally {
      taken.stop(true)
      await server.drop()
    }
  }, 60_000)

  test('GEARBOX_DATA_DIR is a file, not a directory', async () => {
    const file = path.join(tempDir('dir'), 'not-a-dir')
    writeFileSync(file, '')
    const { status, stderr } = await runToEnd({ GEARBOX_DATA_DIR: file })
    expect(status).toBe(1)
    expect(stderr).toEqual([`gearbox: GEARBOX_DATA_DIR: cannot use ${file}: a path component is a file, not a directory (ENOTDIR)`])
  })

  test('GEARBOX_UPLOAD_DIR cannot take files: refused at start, not at the first upload', async () => {
    const file = path.join(tempDir('dir'), 'a-file')
    writeFileSync(file, '')
    const { status, stderr } = await runToEnd({ GEARBOX_DATA_DIR: tempDir('data'), GEARBOX_UPLOAD_DIR: path.join(file, 'images') })
    expect(status).toBe(1)
    expect(stderr).toEqual([`gearbox: GEARBOX_UPLOAD_DIR: cannot store images in ${path.join(file, 'images')}: ${file} is not a folder`])
  })

  test('GEARBOX_DATA_DIR is not writable', async () => {
    const dir = tempDir('dir')
    chmodSync(dir, 0o755)
    const readOnly = path.join(dir, 'read-only')
    mkdirSync(readOnly, { mode: 0o555 })
    chmodSync(readOnly, 0o555)
    // root may write anywhere: then the server runs as the unprivileged postgres user.
    const asRoot = process.getuid?.() === 0
    if (asRoot) chownSync(readOnly, 0, 0)
    const command = asRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--clear-groups', process.execPath, 'src/server.ts'] : undefined
    const { status, stderr } = await runToEnd({ GEARBOX_DATA_DIR: readOnly }, command)
    expect(status).toBe(1)
    expect(stderr).toEqual([`gearbox: GEARBOX_DATA_DIR: cannot use ${readOnly}: permission denied (EACCES)`])
  })
})
