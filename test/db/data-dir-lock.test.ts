import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { freePort } from '../support/ports'
import { waitForLine } from '../support/process'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')

function run(args: string[], env: Record<string, string>) {
  // NODE_ENV=test would silence kysely-ctl's output.
  return Bun.spawn(['bun', ...args], { cwd: root, env: { ...process.env, NODE_ENV: 'production', ...env }, stdout: 'pipe', stderr: 'pipe' })
}

describe('the embedded data directory is opened by one process at a time', () => {
  test('a second process is refused with one line naming the holder; the lock goes with the holder', async () => {
    const dataDir = tempDir('lock')
    const env = { GEARBOX_DATA_DIR: dataDir, PORT: String(freePort()), DATABASE_URL: '' }
    const server = run(['src/server.ts'], env)
    try {
      await waitForLine(server.stdout, /listening on/)
      const second = run(['--bun', 'kysely', 'migrate:list'], env)
      const [stdout, stderr] = [await new Response(second.stdout).text(), await new Response(second.stderr).text()]
      // All of it in one comparison, so a failure shows what the second process printed.
      expect({ code: await second.exited, first: stderr.split('\n')[0], stdout }).toEqual({
        code: 1,
        first: `the embedded database ${dataDir}/db is in use by process ${server.pid}; stop it first, or set DATABASE_URL`,
        stdout: '',
      })
    } finally {
      server.kill('SIGTERM')
      await server.exited
    }
    expect(existsSync(`${dataDir}/db.lock`)).toBe(false)
  })

  test('a stale lock left by a process that is gone is taken over', async () => {
    const dataDir = tempDir('lock')
    writeFileSync(`${dataDir}/db.lock`, '2147483646')
    const list = run(['--bun', 'kysely', 'migrate:list'], { GEARBOX_DATA_DIR: dataDir, DATABASE_URL: '' })
    const stdout = await new Response(list.stdout).text()
    expect(await list.exited).toBe(0)
    expect(stdout).toContain('create_catalog')
  })

  test('a holder killed with SIGKILL and left a zombie (not yet reaped) does not hold the lock', async () => {
    const dataDir = tempDir('lock')
    const env = { GEARBOX_DATA_DIR: dataDir, PORT: String(freePort()), DATABASE_URL: '' }
    // sh starts the server, then becomes `sleep`, which never reaps it: after SIGKILL the
    // server stays a zombie with its pid, as one does until its parent waits for it. Its own
    // process group, so that the server goes with it even when the test stops before its SIGKILL.
    const parent = Bun.spawn(['sh', '-c', 'bun src/server.ts & echo "pid $!"; exec sleep 60'], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'production', ...env },
      stdout: 'pipe',
      stderr: 'pipe',
      detached: true,
    })
    try {
      const pid = Number(/pid (\d+)/.exec(await waitForLine(parent.stdout, /listening on/))?.[1])
      expect(readFileSync(`${dataDir}/db.lock`, 'utf8')).toBe(String(pid))
      process.kill(pid, 'SIGKILL')
      const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0]
      for (let waited = 0; state() !== 'Z' && waited < 10_000; waited += 50) await Bun.sleep(50)
      expect(state()).toBe('Z')
      const list = run(['--bun', 'kysely', 'migrate:list'], env)
      const [stdout, stderr] = [await new Response(list.stdout).text(), await new Response(list.stderr).text()]
      expect({ code: await list.exited, stderr }).toEqual({ code: 0, stderr: '' })
      expect(stdout).toContain('create_catalog')
    } finally {
      process.kill(-parent.pid, 'SIGKILL')
      await parent.exited
    }
  })

  test('a lock naming a pid that now belongs to another, live process is taken over', async () => {
    const dataDir = tempDir('lock')
    // The old holder died and its pid went to an unrelated process (this sleep).
    const stranger = Bun.spawn(['sleep', '60'])
    try {
      writeFileSync(`${dataDir}/db.lock`, String(stranger.pid))
      const list = run(['--bun', 'kysely', 'migrate:list'], { GEARBOX_DATA_DIR: dataDir, DATABASE_URL: '' })
      const [stdout, stderr] = [await new Response(list.stdout).text(), await new Response(list.stderr).text()]
      expect({ code: await list.exited, stderr }).toEqual({ code: 0, stderr: '' })
      expect(stdout).toContain('create_catalog')
    } finally {
      stranger.kill()
      await stranger.exited
    }
  })
})
