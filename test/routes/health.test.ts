import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PGlite } from '@electric-sql/pglite'
import { createApp } from '../../src/app'
import { createPGliteDatabase, pgliteOptions } from '../../src/db/database'
import { createServices } from '../../src/services'
import { bodyOf, useTestApp } from '../support/app'
import { unreachableDatabase } from '../support/database'

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
