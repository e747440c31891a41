// issue 13: on a server, a statement outside a transaction goes to postgres.js's pool without
// reserving a connection (src/db/postgres-pool.ts); only a transaction reserves one. Waiting for
// a connection stays bounded, and a statement that gave up waiting never runs.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Kysely, sql } from 'kysely'
import type { DatabaseConfig } from '../../src/config'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
import { UnavailableError } from '../../src/errors'
import type { PoolStats } from '../../src/observability'
import { createServerDatabase, holdTransaction } from '../support/database'
import { rejection } from '../support/failures'
import { startRelay } from '../support/relay'

describe('the postgres.js pool behind Kysely', () => {
  let server: Awaited<ReturnType<typeof createServerDatabase>>
  beforeAll(async () => {
    server = await createServerDatabase()
    await migrateToLatest(server.db)
  }, 60_000)
  afterAll(() => server?.drop(), 60_000)

  /** A pool of one connection on the test database that gives up waiting after 300 ms, and its counts. */
  async function poolOfOne(config: Partial<Extract<DatabaseConfig, { kind: 'postgres' }>> = {}) {
    const pool: PoolStats = { size: 0, inUse: 0, waiting: 0 }
    const db = createDatabase({ ...server.config, maxConnections: 1, acquireTimeoutMs: 300, ...config }, { pool })
    await sql`select 1`.execute(db)
    return { db, pool }
  }
  const keys = async (db: Kysely<DB>) => (await db.selectFrom('settings').select('key').orderBy('key').execute()).map((r) => r.key)

  test('statements outside a transaction share a connection: ten at once go out in one write on a pool of one', async () => {
    const relay = startRelay(server.url)
    const { db } = await poolOfOne({ url: relay.url })
    try {
      const select = (i: number) => sql<{ id: number }>`select ${i}::int as id`.execute(db)
      // The first run of a statement waits for PostgreSQL to describe it; later runs do not.
      await select(0)
      relay.sent.length = 0
      const ids = await Promise.all(Array.from({ length: 10 }, (_, i) => select(i)))
      expect(ids.map((r) => r.rows[0]!.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      // With a connection reserved per statement, each would wait for the one before: ten writes.
      expect(relay.sent, `chunks written: ${JSON.stringify(relay.sent)}`).toHaveLength(1)
    } finally {
      await db.destroy()
      relay.stop()
    }
  })

  test('a statement that waits longer than the acquire timeout is a 503, and never runs', async () => {
    const { db, pool } = await poolOfOne()
    try {
      const hold = await holdTransaction(db, (trx) => trx.insertInto('settings').values({ key: 'held', value: '1' }).execute())
      const started = Date.now()
      const waiting = rejection(db.insertInto('settings').values({ key: 'gave up', value: '1' }).execute())
      await Bun.sleep(100)
      expect({ inUse: pool.inUse, waiting: pool.waiting }).toEqual({ inUse: 1, waiting: 1 })
      const error = await waiting
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as Error).message).toBe('database unavailable: no connection became free in time')
      expect(Date.now() - started).toBeLessThan(2_000)
      expect({ inUse: pool.inUse, waiting: pool.waiting }).toEqual({ inUse: 1, waiting: 0 })
      await hold.end()
      await Bun.sleep(100)
      expect(await keys(db)).toEqual(['held'])
    } finally {
      await db.deleteFrom('settings').execute()
      await db.destroy()
    }
  })

  test('a transaction that waits longer than the acquire timeout is a 503, and runs nothing', async () => {
    const { db } = await poolOfOne()
    try {
      const hold = await holdTransaction(db, (trx) => trx.insertInto('settings').values({ key: 'held', value: '1' }).execute())
      const error = await rejection(
        db.transaction().execute(async (trx) => {
          await trx.insertInto('settings').values({ key: 'gave up', value: '1' }).execute()
          await trx.insertInto('settings').values({ key: 'gave up too', value: '1' }).execute()
        }),
      )
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as Error).message).toBe('database unavailable: no connection became free in time')
      await hold.end()
      await Bun.sleep(100)
      expect(await keys(db)).toEqual(['held'])
    } finally {
      await db.deleteFrom('settings').execute()
      await db.destroy()
    }
  })

  test('once sent, a statement runs to its end: only statement_timeout bounds it', async () => {
    const { db, pool } = await poolOfOne()
    try {
      const slow = sql<{ done: boolean }>`select pg_sleep(0.8) is not null as done`.execute(db)
      await Bun.sleep(100)
      expect({ inUse: pool.inUse, waiting: pool.waiting }).toEqual({ inUse: 1, waiting: 0 })
      expect((await slow).rows).toEqual([{ done: true }])
    } finally {
      await db.destroy()
    }
  })

  test('results stream through a cursor, outside a transaction and inside one', async () => {
    const { db } = await poolOfOne()
    try {
      await db
        .insertInto('settings')
        .values(['a', 'b', 'c', 'd', 'e'].map((key) => ({ key, value: '1' })))
        .execute()
      const streamed = async (on: Kysely<DB>) => {
        const rows: string[] = []
        for await (const row of on.selectFrom('settings').select('key').orderBy('key').stream(2)) rows.push(row.key)
        return rows
      }
      expect(await streamed(db)).toEqual(['a', 'b', 'c', 'd', 'e'])
      expect(await db.transaction().execute(streamed)).toEqual(['a', 'b', 'c', 'd', 'e'])
    } finally {
      await db.deleteFrom('settings').execute()
      await db.destroy()
    }
  })
})
