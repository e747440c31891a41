// Request logs, slow-query logs and GET /metrics, on a PostgreSQL server (the pool counts are
// the driver-level ones the server process exports).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import pino from 'pino'
import { createApp } from '../src/app'
import { createDatabase } from '../src/db/database'
import { migrateToLatest } from '../src/db/migrator'
import { listen } from '../src/http-server'
import { Metrics, type PoolStats, queryObserver } from '../src/observability'
import { createServices } from '../src/services'
import { createServerDatabase, HOOK_TIMEOUT_MS } from './support/database'

const lines: string[] = []
const log = pino({ level: 'info', base: undefined }, { write: (line: string) => void lines.push(line) })
const records = () => lines.map((l) => JSON.parse(l))

const pool: PoolStats = { size: 0, inUse: 0, waiting: 0 }
const metrics = new Metrics(pool, async () => 0)
const TOKEN = 'metrics-token-0123456789'
let server: Awaited<ReturnType<typeof createServerDatabase>>
let db: ReturnType<typeof createDatabase>
let app: ReturnType<typeof createApp>

beforeAll(async () => {
  server = await createServerDatabase()
  // Every query counts as slow here (threshold 0.001 ms), so each one is logged with its route.
  db = createDatabase(server.config, { pool, log: queryObserver(log, 0.001, metrics) })
  await migrateToLatest(db)
  app = createApp({ services: createServices(db, { uploadDir: '/tmp/gearbox-unused' }), log, metrics: { metrics, token: TOKEN } })
}, HOOK_TIMEOUT_MS)
afterAll(async () => {
  await db.destroy()
  await server.drop()
}, HOOK_TIMEOUT_MS)

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
})

describe('request log', () => {
  test('one JSON line per request: method, path without query string, status, duration, request id', async () => {
    lines.length = 0
    const res = await app.request('/health/live?verbose=1')
    const requestLines = records().filter((r) => r.msg === 'request')
    expect(requestLines).toHaveLength(1)
    expect(requestLines[0]).toMatchObject({ level: 30, method: 'GET', path: '/health/live', status: 200, requestId: res.headers.get('x-request-id') })
    expect(requestLines[0].durationMs).toBeGreaterThanOrEqual(0)
  })

  test('never a password, cookie, API key, token or code, wherever the request carried them', async () => {
    lines.length = 0
    const password = 'hunter2-correct-horse-PASSWORD'
    expect((await app.request('/api/auth/setup', json({ username: 'owner', password }))).status).toBe(201)
    expect((await app.request('/api/auth/login', json({ username: 'owner', password: `${password}-wrong` }))).status).toBe(401)
    const login = await app.request('/api/auth/login', json({ username: 'owner', password }))
    const session = /gearbox_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')![1]!
    const keyRes = await app.request('/api/api-keys', json({ name: 'cli' }, { cookie: `gearbox_session=${session}` }))
    const key: string = ((await keyRes.json()) as { key: string }).key
    const query = '?token=QUERY-TOKEN-SECRET&code=AUTH-CODE-SECRET&api_key=QUERY-KEY-SECRET'
    expect((await app.request(`/api/items${query}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
    expect((await app.request(`/api/auth/me${query}`, { headers: { cookie: `gearbox_session=${session}` } })).status).toBe(200)
    await app.request('/api/items', { headers: { authorization: 'Bearer WRONG-KEY-SECRET' } })

    const captured = lines.join('')
    expect(records().filter((r) => r.msg === 'request')).toHaveLength(7)
    for (const secret of [password, session, key, 'QUERY-TOKEN-SECRET', 'AUTH-CODE-SECRET', 'QUERY-KEY-SECRET', 'WRONG-KEY-SECRET', 'hunter2']) {
      expect(captured).not.toContain(secret)
    }
  })
})

describe('request log through the production HTTP server', () => {
  test('each request is logged with its own method, a JSON body or none', async () => {
    const http = await listen((request, env) => app.fetch(request, env), 0, '127.0.0.1')
    try {
      lines.length = 0
      const base = `http://127.0.0.1:${http.port}`
      await fetch(`${base}/api/auth/setup`, json({ username: 'logged', password: 'a long passphrase' }))
      await fetch(`${base}/api/items/1`, { method: 'DELETE' })
      await fetch(`${base}/health/live`)
      expect(
        records()
          .filter((r) => r.msg === 'request')
          .map((r) => `${r.method} ${r.path}`),
      ).toEqual(['POST /api/auth/setup', 'DELETE /api/items/1', 'GET /health/live'])
    } finally {
      await http.stop(true)
    }
  })
})

describe('slow queries', () => {
  test('are logged with their duration, the route that ran them and the SQL without its parameters', async () => {
    lines.length = 0
    await app.request('/api/auth/login', json({ username: 'nobody-SECRET-NAME', password: 'x-SECRET' }))
    // A sign-in runs in transactions: `begin` and `commit` are logged too; a query with the username is the one to look at.
    const slow = records().filter((r) => r.msg === 'slow query' && r.sql.includes('$1'))
    expect(slow.length).toBeGreaterThan(0)
    expect(slow[0]).toMatchObject({ level: 40, route: 'POST /api/auth/login' })
    expect(slow[0].durationMs).toBeGreaterThanOrEqual(0)
    expect(lines.join('')).not.toContain('SECRET')
  })
})

describe('GET /metrics', () => {
  test('is not served unless enabled', async () => {
    const plain = createApp({ services: createServices(db, { uploadDir: '/tmp/gearbox-unused' }) })
    expect((await plain.request('/metrics')).status).toBe(404)
  })

  test('with a token, only to Authorization: Bearer <token>', async () => {
    expect((await app.request('/metrics')).status).toBe(401)
    expect((await app.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    expect((await app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
  })

  test('Prometheus text: requests by route pattern, latency histograms, pool, query durations, pending migrations', async () => {
    await app.request('/api/items/12345', { headers: { authorization: 'Bearer nope' } })
    const res = await app.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(res.headers.get('content-type')).toStartWith('text/plain; version=0.0.4')
    const text = await res.text()
    expect(text).toContain('gearbox_http_requests_total{method="GET",route="/api/items/:id",status="401"} 1')
    expect(text).toMatch(/gearbox_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/health\/live"\} \d/)
    expect(text).toContain('gearbox_db_pool_size 5')
    expect(text).toContain('gearbox_db_pool_in_use 0')
    expect(text).toContain('gearbox_db_pool_waiting 0')
    expect(text).toMatch(/gearbox_db_query_duration_seconds_count\{outcome="ok"\} [1-9]/)
    expect(text).toContain('gearbox_migrations_pending 0')
    expect(text).not.toContain('12345')
  })

  test('the pool counts follow connections held and waited for', async () => {
    const { promise: release, resolve } = Promise.withResolvers<void>()
    const held = Array.from({ length: 6 }, () => db.connection().execute(() => release))
    const counts = () => ({ inUse: pool.inUse, waiting: pool.waiting })
    // Opening five connections takes a while on a loaded machine: wait for it, up to 10 s.
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !Bun.deepEquals(counts(), { inUse: 5, waiting: 1 }); ) await Bun.sleep(20)
    expect(counts()).toEqual({ inUse: 5, waiting: 1 })
    resolve()
    await Promise.all(held)
    expect(counts()).toEqual({ inUse: 0, waiting: 0 })
  })
})
