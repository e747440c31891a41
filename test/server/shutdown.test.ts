// `docker stop` sends SIGTERM to the server: it must stop accepting, let the request in
// flight finish, close the database and remove the embedded database's lock, and exit 0.
import { describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import path from 'node:path'
import postgres from 'postgres'
import { createServerDatabase } from '../support/database'
import { freePort } from '../support/ports'
import { readRest, waitForLine } from '../support/process'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')

test('SIGTERM with a request in flight: the request completes, the process exits 0, the lock is gone', async () => {
  const dataDir = tempDir('sigterm')
  const port = freePort()
  const server = Bun.spawn(['bun', 'src/server.ts'], {
    cwd: root,
    // A generous bound: on a busy machine hashing the password alone can take seconds.
    env: { ...process.env, GEARBOX_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: '', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_S: '60' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    await waitForLine(server.stdout, /listening on/)
    expect(existsSync(`${dataDir}/db.lock`)).toBe(true)

    // A request whose body is still arriving when the signal comes: it is in flight.
    const body = JSON.stringify({ username: 'owner', password: 'a long passphrase' })
    let response = ''
    const { promise: answered, resolve } = Promise.withResolvers<void>()
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        data(_socket, chunk) {
          response += chunk.toString()
          if (response.includes('\r\n\r\n') && response.includes('}')) resolve()
        },
        close: () => resolve(),
      },
    })
    socket.write(
      `POST /api/auth/setup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    )
    // Time for the server to read the headers and start the handler, which then awaits the body.
    await Bun.sleep(1000)
    server.kill('SIGTERM')
    await Bun.sleep(500)
    // Stopped accepting: a new connection is refused while the old request is still open.
    expect(Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })).rejects.toThrow()
    socket.write(body.slice(10))
    await answered
    const answeredAt = performance.now()
    expect(response, `server log:\n${response ? '' : await readRest(server.stdout)}`).toStartWith('HTTP/1.1 201')
    expect(response).toContain('"username":"owner"')

    expect(await server.exited).toBe(0)
    // The client keeps its connection open: the server closes it once the answer is out, not
    // after the keep-alive timeout (5 s).
    expect((performance.now() - answeredAt) / 1000).toBeLessThan(4)
    expect(existsSync(`${dataDir}/db.lock`)).toBe(false)
    const log = await readRest(server.stdout)
    expect(log).toContain('SIGTERM received')
    expect(log).toContain('"msg":"stopped"')
  } finally {
    server.kill('SIGKILL')
    await server.exited
  }
}, 120_000)

test('npm start: SIGTERM to npm reaches the server, which stops and removes its lock', async () => {
  const dataDir = tempDir('npm-sigterm')
  const npm = Bun.spawn(['npm', 'start', '--silent'], {
    cwd: root,
    env: { ...process.env, GEARBOX_DATA_DIR: dataDir, PORT: String(freePort()), DATABASE_URL: '', LOG_LEVEL: 'info' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    await waitForLine(npm.stdout, /listening on/)
    const lockHolder = Number(await Bun.file(`${dataDir}/db.lock`).text())
    expect(lockHolder).not.toBe(npm.pid)
    npm.kill('SIGTERM')
    expect(await npm.exited).toBe(0)
    // The server is npm's own child (the script execs Bun), so it got the signal and is gone with its lock.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && existsSync(`${dataDir}/db.lock`); ) await Bun.sleep(50)
    expect(existsSync(`${dataDir}/db.lock`)).toBe(false)
    expect(() => process.kill(lockHolder, 0)).toThrow()
  } finally {
    // Stopped early (a failure above): npm passes SIGTERM on to the server and waits for it.
    npm.kill('SIGTERM')
    await npm.exited
  }
}, 120_000)

/**
 * Starts the server on a new database with one pooled connection and sends 20 requests that
 * need it (each looks its API key up) while another session holds a lock on api_keys: the
 * first blocks in the pool's connection, the others wait for it. The clients hang up
 * unanswered, then SIGTERM comes; the lock is let go `holdMs` after the signal.
 */
async function stopWithAbandonedRequests(shutdownTimeoutSeconds: number, holdMs: number) {
  const database = await createServerDatabase()
  const port = freePort()
  const env = {
    DATABASE_URL: database.url,
    DATABASE_MAX_CONNECTIONS: '1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_S: String(shutdownTimeoutSeconds),
  }
  const server = Bun.spawn(['bun', 'src/server.ts'], { cwd: root, env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const locker = postgres(database.url, { max: 1, onnotice: () => {} })
  try {
    await waitForLine(server.stdout, /listening on/)
    const locked = Promise.withResolvers<void>()
    const unlock = Promise.withResolvers<void>()
    const holding = locker.begin(async (trx) => {
      await trx`lock table api_keys in access exclusive mode`
      locked.resolve()
      await unlock.promise
    })
    await locked.promise
    const request = `GET /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer gbx_shaped-like-a-key-but-unknown\r\n\r\n`
    const sockets = await Promise.all(Array.from({ length: 20 }, () => Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {} } })))
    for (const socket of sockets) socket.write(request)
    await Bun.sleep(300)
    for (const socket of sockets) socket.end()
    await Bun.sleep(100)
    const signalled = performance.now()
    server.kill('SIGTERM')
    setTimeout(unlock.resolve, holdMs)
    const exited = await Promise.race([server.exited, Bun.sleep(20_000).then(() => 'still running after 20 s')])
    const seconds = (performance.now() - signalled) / 1000
    unlock.resolve()
    await holding
    const [log, stderr] = await Promise.all([readRest(server.stdout), new Response(server.stderr).text()])
    return { exited, seconds, log, stderr }
  } finally {
    server.kill('SIGKILL')
    await locker.end()
    await database.drop()
  }
}

describe('SIGTERM while clients hang up on requests waiting for the pool (PostgreSQL)', () => {
  test('the abandoned requests finish before the pool is closed: no request fails, the process exits 0', async () => {
    const { exited, seconds, log, stderr } = await stopWithAbandonedRequests(30, 300)
    expect(exited).toBe(0)
    // Stopped as soon as they finished, not after the pool's 5 s wait for queries still running.
    expect(seconds).toBeLessThan(4)
    expect(log).toContain('"msg":"stopped"')
    expect(log).toContain('"status":401')
    expect(log + stderr).not.toContain('destroyed')
    expect(log + stderr).not.toContain('unhandled error')
  }, 120_000)

  test('requests still stuck after SHUTDOWN_TIMEOUT_S do not keep the process from exiting 0', async () => {
    const { exited, seconds, log } = await stopWithAbandonedRequests(1, 30_000)
    expect(exited).toBe(0)
    expect(log).toContain('requests still running after 1 s')
    expect(log).toContain('"msg":"stopped"')
    // The shutdown timeout, then at most the pool's own 5 s for the query that is still blocked.
    expect(seconds).toBeLessThan(10)
  }, 120_000)
})
