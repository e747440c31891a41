import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { type OwnServer, startOwnServer } from '../support/own-server'
import { freePort } from '../support/ports'
import { waitForLine } from '../support/process'

const root = path.join(import.meta.dir, '../..')
const OUTAGE_MS = 25_000
const ANSWER_WITHIN_MS = 5_000

// The outage: with the PostgreSQL server down, GearBox answered 503 for ~10 s, then
// requests hung 9-12 s and the connection dropped (postgres.js's reconnect back-off grew and
// queries queued behind it). A real server process on a PostgreSQL server of the test's own.
describe('a database outage', () => {
  let pg: OwnServer
  let gearbox: ReturnType<typeof Bun.spawn> & { stdout: ReadableStream<Uint8Array> }
  let base = ''
  let key = ''

  beforeAll(async () => {
    pg = await startOwnServer()
    const port = freePort()
    base = `http://127.0.0.1:${port}`
    gearbox = Bun.spawn(['bun', 'src/server.ts'], {
      cwd: root,
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: pg.url, PORT: String(port), DATABASE_MAX_CONNECTIONS: '4' },
      stdout: 'pipe',
      stderr: 'inherit',
    })
    await waitForLine(gearbox.stdout, /listening on/)
    const owner = JSON.stringify({ username: 'owner', password: 'correct horse battery staple' })
    const json = { 'content-type': 'application/json', origin: base }
    expect((await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: json, body: owner })).status).toBe(201)
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: owner })
    const cookie = /gearbox_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? ''
    const created = await fetch(`${base}/api/api-keys`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ name: 'outage' }) })
    key = ((await created.json()) as { key: string }).key
  })

  afterAll(async () => {
    gearbox?.kill('SIGKILL')
    await pg?.destroy()
  })

  /** GET /api/items with the key; the status, Retry-After and how long the answer took. */
  async function probe() {
    const started = performance.now()
    try {
      const res = await fetch(`${base}/api/items`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(15_000) })
      const body = (await res.json()) as { error?: { code: string } }
      return { status: res.status, code: body.error?.code, retryAfter: res.headers.get('retry-after'), ms: performance.now() - started }
    } catch (error) {
      return { status: 0, code: String(error), retryAfter: null, ms: performance.now() - started }
    }
  }

  test('every request is a 503 with Retry-After within 5 s while it lasts, and the app works within 5 s after it ends', async () => {
    expect((await probe()).status).toBe(200)
    await pg.stop()
    const during: Awaited<ReturnType<typeof probe>>[] = []
    const until = performance.now() + OUTAGE_MS
    // Four clients at once, so requests also queue for connections as they would under use.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (performance.now() < until) {
          during.push(await probe())
          await Bun.sleep(200)
        }
      }),
    )
    const late = during.filter((r) => r.status !== 503 || r.code !== 'unavailable' || r.retryAfter === null || r.ms > ANSWER_WITHIN_MS)
    expect(late).toEqual([])
    expect(during.length).toBeGreaterThan(20)

    await pg.start()
    const back = performance.now()
    let last = await probe()
    while (last.status !== 200 && performance.now() - back < 15_000) {
      await Bun.sleep(100)
      last = await probe()
    }
    expect(last.status).toBe(200)
    expect(performance.now() - back).toBeLessThan(ANSWER_WITHIN_MS)
  }, 120_000)
})
