import { describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { waitForLine } from '../support/process'

const root = path.join(import.meta.dir, '../..')

function run(args: string[], env: Record<string, string>) {
  // NODE_ENV=test would silence kysely-ctl's output.
  return Bun.spawn(['bun', ...args], { cwd: root, env: { ...process.env, NODE_ENV: 'production', ...env }, stdout: 'pipe', stderr: 'pipe' })
}

describe('the embedded data directory is opened by one process at a time', () => {
  test('a second process is refused with one line naming the holder; the lock goes with the holder', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gearbox-lock-'))
    const env = { GEARBOX_DATA_DIR: dataDir, PORT: String(20000 + (process.pid % 20000)), DATABASE_URL: '' }
    const server = run(['src/server.ts'], env)
    try {
      await waitForLine(server.stdout, /listening on/)
      const second = run(['--bun', 'kysely', 'migrate:list'], env)
      const stderr = await new Response(second.stderr).text()
      expect(await second.exited).toBe(1)
      expect(stderr.split('\n')[0]).toBe(`the embedded database ${dataDir}/db is in use by process ${server.pid}; stop it first, or set DATABASE_URL`)
    } finally {
      server.kill('SIGTERM')
      await server.exited
    }
    expect(existsSync(`${dataDir}/db.lock`)).toBe(false)
  })

  test('a stale lock left by a process that is gone is taken over', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gearbox-lock-'))
    writeFileSync(`${dataDir}/db.lock`, '2147483646')
    const list = run(['--bun', 'kysely', 'migrate:list'], { GEARBOX_DATA_DIR: dataDir, DATABASE_URL: '' })
    const stdout = await new Response(list.stdout).text()
    expect(await list.exited).toBe(0)
    expect(stdout).toContain('create_catalog')
  })
})
