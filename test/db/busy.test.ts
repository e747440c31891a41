import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Kysely, sql } from 'kysely'
import { createApp } from '../../src/app'
import { createDatabase } from '../../src/db/database'
import { translateDbError } from '../../src/db/errors'
import { migrateToLatest } from '../../src/db/migrator'
import { retryTransaction, TRANSACTION_ATTEMPTS } from '../../src/db/retry'
import type { DB } from '../../src/db/types'
import { UnavailableError } from '../../src/errors'
import { createStore, repositoriesFor } from '../../src/repositories'
import type { ItemRepository } from '../../src/repositories/item-repository'
import { createServices } from '../../src/services'
import { createServerDatabase, serverUrl } from '../support/database'
import { rejection } from '../support/failures'

// Timeouts, lock waits, deadlocks and serialization failures only happen between real
// sessions: PGlite runs one statement at a time.
describe.if(serverUrl !== undefined)('a busy PostgreSQL server', () => {
  let server: Awaited<ReturnType<typeof createServerDatabase>>
  let db: Kysely<DB>
  beforeAll(async () => {
    server = await createServerDatabase()
    db = server.db
    await migrateToLatest(db)
  }, 60_000)
  afterAll(() => server?.drop(), 60_000)

  const newItem = async (name: string) => (await repositoriesFor(db).items.create({ name, categoryId: 1 })).id

  /** Runs `work` while another session holds the items table in ACCESS EXCLUSIVE mode. */
  async function whileItemsLocked<T>(work: () => Promise<T>): Promise<T> {
    const locked = Promise.withResolvers<void>()
    const release = Promise.withResolvers<void>()
    const holder = db.transaction().execute(async (trx) => {
      await sql`lock table items in access exclusive mode`.execute(trx)
      locked.resolve()
      await release.promise
    })
    try {
      await locked.promise
      return await work()
    } finally {
      release.resolve()
      await holder
    }
  }

  /** GET /api/items through the app on `database`, as a new user `username`: the answer and its milliseconds. */
  async function listItemsOn(database: Kysely<DB>, username: string) {
    const services = createServices(database, { uploadDir: '/nonexistent' })
    const user = await repositoriesFor(db).users.create({ username, passwordHash: 'x' })
    const { key } = await services.auth.createApiKey(user.id, 'k')
    const started = Date.now()
    const res = await createApp({ services }).request('/api/items', { headers: { authorization: `Bearer ${key}` } })
    return { res, ms: Date.now() - started }
  }

  test('57014 statement timeout -> 503 unavailable with Retry-After', async () => {
    const impatient = createDatabase({ ...server.config, statementTimeoutMs: 300 })
    try {
      // The list waits for the table until its statement times out.
      await whileItemsLocked(async () => {
        const error = await rejection(sql`select pg_sleep(5)`.execute(impatient))
        expect(error).toBeInstanceOf(UnavailableError)
        expect((error as Error).message).toBe('database busy: statement timed out')
        const { res, ms } = await listItemsOn(impatient, 'owner')
        expect(ms).toBeLessThan(3000)
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toBe('5')
        expect(await res.json()).toEqual({ error: { code: 'unavailable', message: 'database busy: statement timed out' } })
      })
    } finally {
      await impatient.destroy()
    }
  })

  test('a request waiting for a lock is a 503 once DATABASE_LOCK_TIMEOUT_MS has passed, long before the statement timeout', async () => {
    const impatient = createDatabase({ ...server.config, statementTimeoutMs: 60_000, lockTimeoutMs: 300 })
    try {
      await whileItemsLocked(async () => {
        const { res, ms } = await listItemsOn(impatient, 'lock test owner')
        expect(ms).toBeLessThan(3000)
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toBe('5')
        expect(await res.json()).toEqual({ error: { code: 'unavailable', message: 'database busy: lock wait timed out' } })
      })
    } finally {
      await impatient.destroy()
    }
  })

  test('55P03 lock wait beyond lock_timeout -> UnavailableError', async () => {
    const id = await newItem('Tent')
    const locked = Promise.withResolvers<void>()
    const release = Promise.withResolvers<void>()
    const holder = db.transaction().execute(async (trx) => {
      await trx.selectFrom('items').select('id').where('id', '=', id).forUpdate().execute()
      locked.resolve()
      await release.promise
    })
    try {
      await locked.promise
      const error = await rejection(
        db.transaction().execute(async (trx) => {
          await sql`set local lock_timeout = '100ms'`.execute(trx)
          await trx.updateTable('items').set({ name: 'Tarp' }).where('id', '=', id).execute()
        }),
      )
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as Error).message).toBe('database busy: lock wait timed out')
    } finally {
      release.resolve()
      await holder
    }
  })

  /** Two transactions that update `a` and `b` in opposite orders, both holding their first row. */
  async function crossUpdates(run: (work: (items: ItemRepository) => Promise<void>) => Promise<void>) {
    const [a, b] = [await newItem('a'), await newItem('b')]
    const bothHoldOne = { count: 0, all: Promise.withResolvers<void>() }
    let runs = 0
    const cross = (first: number, second: number) =>
      run(async (items) => {
        runs++
        await items.update(first, { notes: 'held' })
        if (++bothHoldOne.count === 2) bothHoldOne.all.resolve()
        await bothHoldOne.all.promise
        await items.update(second, { quantity: 2 })
      })
    const results = await Promise.allSettled([cross(a, b), cross(b, a)])
    const quantities = await db.selectFrom('items').select('quantity').where('id', 'in', [a, b]).orderBy('id').execute()
    return { results, runs, quantities: quantities.map((q) => q.quantity) }
  }

  test('40P01 deadlock without a retry -> UnavailableError for one side', async () => {
    const { results } = await crossUpdates((work) => db.transaction().execute((trx) => work(repositoriesFor(trx).items)))
    const failed = results.filter((r) => r.status === 'rejected')
    expect(failed).toHaveLength(1)
    expect((failed[0] as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError)
    expect((failed[0] as PromiseRejectedResult).reason.message).toBe('database busy: deadlock detected')
  }, 30_000)

  test('40P01 deadlock in Store.write is retried: both sides commit', async () => {
    const store = createStore(db)
    const { results, runs, quantities } = await crossUpdates((work) => store.write((repos) => work(repos.items)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(runs).toBe(3)
    expect(quantities).toEqual([2, 2])
  }, 30_000)

  /** Two repeatable-read transactions that read one row, then both write it: the second to write cannot serialize. */
  async function concurrentUpdates(run: (work: () => Promise<void>) => Promise<void>) {
    const id = await newItem('counter')
    const bothRead = { count: 0, all: Promise.withResolvers<void>() }
    let runs = 0
    const increment = () =>
      run(() =>
        db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(async (trx) => {
            runs++
            const { quantity } = await trx.selectFrom('items').select('quantity').where('id', '=', id).executeTakeFirstOrThrow()
            if (++bothRead.count === 2) bothRead.all.resolve()
            await bothRead.all.promise
            await trx
              .updateTable('items')
              .set({ quantity: quantity + 1 })
              .where('id', '=', id)
              .execute()
          }),
      )
    const results = await Promise.allSettled([increment(), increment()])
    const { quantity } = await db.selectFrom('items').select('quantity').where('id', '=', id).executeTakeFirstOrThrow()
    return { results, runs, quantity }
  }

  test('40001 serialization failure without a retry -> UnavailableError; with retryTransaction both commit', async () => {
    const once = await concurrentUpdates((work) => work())
    const failed = once.results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(failed).toHaveLength(1)
    expect(failed[0]!.reason).toBeInstanceOf(UnavailableError)
    expect(failed[0]!.reason.message).toBe('database busy: could not serialize with a concurrent transaction')
    expect(once.quantity).toBe(2)

    const retried = await concurrentUpdates((work) => retryTransaction(work))
    expect(retried.results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
    expect(retried.runs).toBe(3)
    expect(retried.quantity).toBe(3)
  }, 30_000)
})

describe('retryTransaction', () => {
  test(`gives up after ${TRANSACTION_ATTEMPTS} runs and rethrows the last failure`, async () => {
    let runs = 0
    const error = await rejection(
      retryTransaction(async () => {
        runs++
        throw translateDbError(Object.assign(new Error('deadlock detected'), { code: '40P01' }))
      }),
    )
    expect(runs).toBe(TRANSACTION_ATTEMPTS)
    expect(error).toBeInstanceOf(UnavailableError)
  })

  test('never runs again for other errors, even a statement timeout', async () => {
    for (const code of ['57014', '23505', undefined]) {
      let runs = 0
      await rejection(
        retryTransaction(async () => {
          runs++
          throw translateDbError(Object.assign(new Error('x'), { code }))
        }),
      )
      expect(runs).toBe(1)
    }
  })
})
