import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import { createApp } from '../../src/app'
import { ANSWER_MARGIN_MS, createDatabase, createPGliteDatabase, pgliteOptions } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { createServices } from '../../src/services'
import { READY_TIMEOUT_MS } from '../../src/services/health-service'
import { bodyOf, useTestApp } from '../support/app'
import { createServerDatabase, serverUrl, unreachableDatabase } from '../support/database'
import { startRelay } from '../support/relay'

const appOver = (db: Parameters<typeof createServices>[0]) => createApp({ services: createServices(db, { uploadDir: '/tmp/unused' }) })

describe('health on a migrated database', () => {
  const t = useTestApp()

  test('live and ready answer ok without credentials', async () => {
    for (const path of ['/health/live', '/health/ready']) {
      const res = await t.app.request(path)
      expect(res.status).toBe(200)
      expect(await bodyOf(res)).toEqual({ status: 'ok' })
    }
  })
})

describe('health when the database is not ready', () => {
  // Opened in a hook, not while the file is collected: a new PGlite runs initdb, seconds of
  // synchronous WebAssembly that would stall the suite above while it connects to the server
  // (its 3 s acquire timeout then fired first: CI failed once that way).
  let unmigrated: ReturnType<typeof createPGliteDatabase>
  const unreachable = unreachableDatabase()
  beforeAll(() => {
    unmigrated = createPGliteDatabase(new PGlite(pgliteOptions))
  })
  afterAll(async () => {
    await unmigrated?.destroy()
    await unreachable.destroy()
  })

  test('ready lists every pending migration with 503', async () => {
    const res = await appOver(unmigrated).request('/health/ready')
    expect(res.status).toBe(503)
    const body = await bodyOf(res)
    expect(body.error.code).toBe('unavailable')
    expect(body.error.details.length).toBeGreaterThanOrEqual(6)
    expect(body.error.details[0]).toEqual({ path: 'migrations', message: '20261122050100_create_catalog is pending' })
  })

  test('an unreachable server gives 503 with Retry-After; live still answers', async () => {
    const app = appOver(unreachable)
    const res = await app.request('/health/ready')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(await bodyOf(res)).toEqual({
      error: { code: 'unavailable', message: 'database unavailable', details: [{ path: 'database', message: 'does not answer' }] },
    })
    expect((await app.request('/health/live')).status).toBe(200)
  })

  test('an API call on an unreachable server is a 503, never a 500, and leaks no driver text', async () => {
    const res = await appOver(unreachable).request('/api/categories', { headers: { authorization: 'Bearer gbx_x' } })
    expect(res.status).toBe(503)
    const text = await res.text()
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/)
  })
})

test('embedded: a data directory deleted under the running server makes ready a 503 naming it (PGlite still answers reads from memory)', async () => {
  const parent = mkdtempSync(path.join(tmpdir(), 'gearbox-health-'))
  const dataDir = path.join(parent, 'db')
  const db = createPGliteDatabase(new PGlite(dataDir, pgliteOptions))
  try {
    await migrateToLatest(db)
    const app = createApp({ services: createServices(db, { uploadDir: '/tmp/unused', embeddedDataDir: dataDir }) })
    expect((await app.request('/health/ready')).status).toBe(200)
    rmSync(parent, { recursive: true, force: true })
    const res = await app.request('/health/ready')
    expect([res.status, res.headers.get('retry-after'), await bodyOf(res)]).toEqual([
      503,
      '5',
      {
        error: {
          code: 'unavailable',
          message: 'database unavailable',
          details: [{ path: 'database', message: `the embedded database's directory ${dataDir} is gone (deleted while GearBox runs)` }],
        },
      },
    ])
  } finally {
    await db.destroy().catch(() => {})
    rmSync(parent, { recursive: true, force: true })
  }
}, 60_000)

// A standby after a failover, and a server that stopped answering: both need a server of their own.
describe.if(!!serverUrl)('health and requests when the server cannot do the work', () => {
  let server: Awaited<ReturnType<typeof createServerDatabase>>
  let key: string
  beforeAll(async () => {
    server = await createServerDatabase()
    await migrateToLatest(server.db)
    const services = createServices(server.db, { uploadDir: '/tmp/unused' })
    const owner = await services.auth.setup('owner', 'a long passphrase')
    key = (await services.auth.createApiKey(owner.id, 'k')).key
  }, 60_000)
  afterAll(() => server?.drop(), 60_000)

  test('a read-only database (a standby): ready is a 503 saying so, and every request a 503 with Retry-After, never a 500', async () => {
    const name = new URL(server.url).pathname.slice(1)
    await sql.raw(`alter database ${name} set default_transaction_read_only = on`).execute(server.db)
    // New connections take the setting.
    const readOnly = createDatabase(server.config)
    try {
      const app = appOver(readOnly)
      const ready = await app.request('/health/ready')
      expect([ready.status, await bodyOf(ready)]).toEqual([
        503,
        {
          error: {
            code: 'unavailable',
            message: 'database accepts no writes',
            details: [{ path: 'database', message: 'is read-only (a standby, or default_transaction_read_only)' }],
          },
        },
      ])
      // The key's first use records it (an UPDATE), so even a read meets the read-only database.
      const res = await app.request('/api/items', { headers: { authorization: `Bearer ${key}` } })
      expect([res.status, res.headers.get('retry-after'), (await bodyOf(res)).error.code]).toEqual([503, '5', 'unavailable'])
    } finally {
      await readOnly.destroy()
      await sql.raw(`alter database ${name} reset default_transaction_read_only`).execute(server.db)
    }
  })

  test('a server that stops answering altogether: ready is a 503 within a few seconds, not a wait without end', async () => {
    const relay = startRelay(server.url)
    const db = createDatabase({ ...server.config, url: relay.url })
    try {
      const app = appOver(db)
      expect((await app.request('/health/ready')).status).toBe(200)
      relay.freeze()
      const started = performance.now()
      const res = await app.request('/health/ready')
      expect([res.status, await bodyOf(res)]).toEqual([
        503,
        {
          error: {
            code: 'unavailable',
            message: 'database unavailable',
            details: [{ path: 'database', message: `does not answer within ${READY_TIMEOUT_MS / 1000} s` }],
          },
        },
      ])
      expect(performance.now() - started).toBeLessThan(READY_TIMEOUT_MS + 1_500)
    } finally {
      relay.stop()
      await db.destroy()
    }
  })

  test('requests on a server that stops answering: each a 503 with Retry-After soon after the statement timeout, never a wait without end', async () => {
    const relay = startRelay(server.url)
    const statementTimeoutMs = 1_000
    const db = createDatabase({ ...server.config, url: relay.url, statementTimeoutMs, maxConnections: 3 })
    try {
      const app = appOver(db)
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' }
      const setup = await (await app.request('/api/setups', { method: 'POST', headers, body: '{"name":"Trip"}' })).json()
      relay.freeze()
      const bound = statementTimeoutMs + ANSWER_MARGIN_MS + 1_500
      // A read, a one-statement write and a transaction (a setup's items are replaced in one).
      for (const [method, path, body] of [
        ['GET', '/api/items', undefined],
        ['POST', '/api/items', '{"name":"Tent","categoryId":1}'],
        ['PUT', `/api/setups/${(setup as { id: number }).id}/items`, '{"items":[]}'],
      ] as const) {
        const started = performance.now()
        const res = await app.request(path, { method, headers, body })
        const took = performance.now() - started
        expect([method, res.status, res.headers.get('retry-after'), (await bodyOf(res)).error.code, took < bound]).toEqual([
          method,
          503,
          '5',
          'unavailable',
          true,
        ])
      }
    } finally {
      relay.stop()
      await db.destroy()
    }
  })
})
