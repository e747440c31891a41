import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
import { ValidationError } from '../../src/errors'
import { createStore, type Repositories, repositoriesFor } from '../../src/repositories'
import { CategoryService } from '../../src/services/category-service'
import { ItemService } from '../../src/services/item-service'
import { SetupService } from '../../src/services/setup-service'
import { ThreadService } from '../../src/services/thread-service'
import { createServerDatabase, serverUrl, untilLocksWait } from '../support/database'
import { rejection, storeWith } from '../support/failures'

// Two writes that lock the same rows in opposite orders deadlock: PostgreSQL waits
// deadlock_timeout (1 s by default), then aborts one, which runs again (retryTransaction), and
// under load the pool's connections sit in those waits. Only real sessions show it (PGlite runs
// one statement at a time). Each test holds one write at a point where it has taken its first
// locks, lets the other ask for the same rows, and counts the deadlocks the server reported.
describe.if(serverUrl !== undefined)('concurrent writes take their locks in one order: no deadlock, no false 400', () => {
  let server: Awaited<ReturnType<typeof createServerDatabase>>
  let db: Kysely<DB>
  let deadlocks = 0
  beforeAll(async () => {
    server = await createServerDatabase()
    await migrateToLatest(server.db)
    db = createDatabase(server.config, {
      log: (event) => {
        if (event.level === 'error' && /deadlock detected/.test((event.error as Error).message)) deadlocks++
      },
    })
  }, 60_000)
  afterAll(async () => {
    await db?.destroy()
    await server?.drop()
  }, 60_000)

  const repos = () => repositoriesFor(db)

  /** A point where a write stops (`stop()`, in the overridden repository method) until `release()`; `reached` once it has. */
  function pausePoint() {
    const reached = Promise.withResolvers<void>()
    const released = Promise.withResolvers<void>()
    return {
      reached: reached.promise,
      release: () => released.resolve(),
      async stop() {
        reached.resolve()
        await released.promise
      },
    }
  }

  /** Runs `paused` until it stops at `pause`, then `other` until it waits for a lock, then lets both finish; the deadlocks meanwhile. */
  async function race<A, B>(pause: ReturnType<typeof pausePoint>, paused: () => Promise<A>, other: () => Promise<B>) {
    const before = deadlocks
    const first = paused()
    await pause.reached
    const second = other()
    await untilLocksWait(db, 1, second)
    pause.release()
    const settled = await Promise.allSettled([first, second])
    return { settled, deadlocks: deadlocks - before }
  }

  /** Categories whose delete stops right before `repo.method`, having locked the category. */
  const categoriesStoppingBefore = <K extends keyof Repositories>(pause: ReturnType<typeof pausePoint>, repo: K, method: keyof Repositories[K]) =>
    new CategoryService(
      storeWith(
        db,
        repo,
        (trx) =>
          ({
            async [method](...args: unknown[]) {
              await pause.stop()
              return (trx[repo][method] as (...a: unknown[]) => unknown).apply(trx[repo], args)
            },
          }) as Partial<Repositories[K]>,
      ),
    )

  test("resolving a candidate whose category is being deleted: the resolve waits, then buys it in Uncategorized (was a 400 'category does not exist')", async () => {
    const tents = await repos().categories.create({ name: 'Tents' })
    const thread = await repos().threads.create({ name: 'Shelter', categoryId: 1 })
    const candidate = await repos().threads.addCandidate(thread.id, { name: 'Duplex', categoryId: tents.id })
    const pause = pausePoint()
    // The delete has moved the candidate to Uncategorized, not yet committed, when the resolve starts.
    const { settled, deadlocks } = await race(
      pause,
      () => categoriesStoppingBefore(pause, 'categories', 'delete').delete(tents.id),
      () => new ThreadService(createStore(db)).resolve(thread.id, candidate.id),
    )
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled'])
    const { item } = (settled[1] as PromiseFulfilledResult<Awaited<ReturnType<ThreadService['resolve']>>>).value
    expect([item.name, item.categoryId, deadlocks]).toEqual(['Duplex', 1, 0])
  }, 30_000)

  test('resolving while the category of the thread and the candidate is deleted: no deadlock, the bought item ends in Uncategorized', async () => {
    const stoves = await repos().categories.create({ name: 'Stoves' })
    const thread = await repos().threads.create({ name: 'Stove', categoryId: stoves.id })
    const candidate = await repos().threads.addCandidate(thread.id, { name: 'Pocket Rocket' })
    const pause = pausePoint()
    // The resolve holds the thread and the candidate when the delete starts.
    const resolving = new ThreadService(
      storeWith(db, 'threads', (trx) => ({
        async findCandidate(threadId, candidateId, options) {
          const found = await trx.threads.findCandidate(threadId, candidateId, options)
          if (options?.lock) await pause.stop()
          return found
        },
      })),
    )
    const { settled, deadlocks } = await race(
      pause,
      () => resolving.resolve(thread.id, candidate.id),
      () => new CategoryService(createStore(db)).delete(stoves.id),
    )
    expect([settled.map((s) => s.status), deadlocks]).toEqual([['fulfilled', 'fulfilled'], 0])
    expect((await repos().items.list()).map((i) => [i.name, i.categoryId])).toContainEqual(['Pocket Rocket', 1])
  }, 30_000)

  test("adding a candidate (in its thread's category) while that category is deleted: no deadlock, the candidate is in Uncategorized", async () => {
    const sleep = await repos().categories.create({ name: 'Sleep' })
    const thread = await repos().threads.create({ name: 'Quilt', categoryId: sleep.id })
    const pause = pausePoint()
    // The delete has locked the category and moved its items, not yet its threads.
    const { settled, deadlocks } = await race(
      pause,
      () => categoriesStoppingBefore(pause, 'threads', 'reassignCategory').delete(sleep.id),
      () => new ThreadService(createStore(db)).addCandidate(thread.id, { name: 'Apex' }),
    )
    expect([settled.map((s) => s.status), deadlocks]).toEqual([['fulfilled', 'fulfilled'], 0])
    expect((settled[1] as PromiseFulfilledResult<{ categoryId: number }>).value.categoryId).toBe(1)
  }, 30_000)

  test('many items of the same setups deleted at once: no deadlock', async () => {
    // An UPDATE of several rows locks them in the order it finds them, which each update changes.
    const items = await Promise.all(Array.from({ length: 60 }, (_, i) => repos().items.create({ name: `Item ${i}`, categoryId: 1 })))
    const setups = new SetupService(createStore(db))
    for (let s = 0; s < 6; s++) {
      const setup = await repos().setups.create({ name: `Setup ${s}` })
      await setups.replaceItems(
        setup.id,
        items.map((item) => ({ itemId: item.id, classification: 'base' as const })),
      )
    }
    const before = deadlocks
    const deleting = new ItemService(createStore(db))
    const deleted = await Promise.allSettled(items.map((item) => deleting.delete(item.id)))
    expect([deleted.filter((r) => r.status === 'fulfilled').length, deadlocks - before]).toEqual([60, 0])
  }, 60_000)

  test("a thread's candidates reordered by many at once, while their category is deleted: no deadlock", async () => {
    const kitchen = await repos().categories.create({ name: 'Kitchen' })
    const thread = await repos().threads.create({ name: 'Pots', categoryId: 1 })
    const candidates: number[] = []
    for (let i = 0; i < 20; i++) candidates.push((await repos().threads.addCandidate(thread.id, { name: `Pot ${i}`, categoryId: kitchen.id })).id)
    const threads = new ThreadService(createStore(db))
    const before = deadlocks
    const shuffled = () => [...candidates].sort(() => Math.random() - 0.5)
    const reorders = await Promise.allSettled([
      ...Array.from({ length: 8 }, () => threads.reorderCandidates(thread.id, shuffled())),
      new CategoryService(createStore(db)).delete(kitchen.id),
      ...Array.from({ length: 8 }, () => threads.reorderCandidates(thread.id, shuffled())),
    ])
    expect([reorders.map((r) => r.status).filter((s) => s === 'fulfilled').length, deadlocks - before]).toEqual([17, 0])
  }, 60_000)

  test("replacing a setup's items while one of them is deleted: no deadlock; the replace then names the item that is gone", async () => {
    const [a, b] = [await repos().items.create({ name: 'A', categoryId: 1 }), await repos().items.create({ name: 'B', categoryId: 1 })]
    const setup = await repos().setups.create({ name: 'Weekend' })
    const setups = new SetupService(createStore(db))
    await setups.replaceItems(setup.id, [
      { itemId: a.id, classification: 'base' },
      { itemId: b.id, classification: 'base' },
    ])
    const pause = pausePoint()
    // The item delete holds its first locks when the replace starts.
    const deleting = new ItemService(
      storeWith(db, 'items', (trx) => ({
        async lock(id) {
          await trx.items.lock(id)
          await pause.stop()
        },
      })),
    )
    const { settled, deadlocks } = await race(
      pause,
      () => deleting.delete(a.id),
      () =>
        setups.replaceItems(setup.id, [
          { itemId: a.id, classification: 'worn' },
          { itemId: b.id, classification: 'worn' },
        ]),
    )
    expect([settled[0]!.status, deadlocks]).toEqual(['fulfilled', 0])
    const refused = await rejection(Promise.reject((settled[1] as PromiseRejectedResult).reason))
    expect(refused).toBeInstanceOf(ValidationError)
    expect((refused as ValidationError).details).toEqual([{ path: 'items.0.itemId', message: `item ${a.id} does not exist` }])
    expect((await setups.get(setup.id)).items.map((i) => [i.id, i.classification])).toEqual([[b.id, 'base']])
  }, 30_000)
})
