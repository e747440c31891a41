import { describe, expect, test } from 'bun:test'
import { backend, useTestDatabase } from '../support/database'

class Rollback extends Error {}

// Settles at once into a label, so a rejection is handled even before it is awaited.
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e instanceof Rollback ? 'rolled back' : Promise.reject(e)),
  )

describe('transactions', () => {
  const t = useTestDatabase()
  const names = async () => (await t.db.selectFrom('settings').select('key').orderBy('key').execute()).map((r) => r.key)

  test('a transaction that returns commits its writes', async () => {
    const result = await t.db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values({ key: 'a', value: '1' }).execute()
      await trx.insertInto('settings').values({ key: 'b', value: '2' }).execute()
      return 'done'
    })
    expect(result).toBe('done')
    expect(await names()).toEqual(['a', 'b'])
  })

  test('a transaction that throws rolls back every write and rethrows the error', async () => {
    const error = await t.db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'a', value: '1' }).execute()
        await trx.updateTable('categories').set({ name: 'Renamed' }).where('id', '=', 1).execute()
        throw new Rollback('stop')
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Rollback)
    expect(await names()).toEqual([])
    expect(await t.db.selectFrom('categories').select('name').execute()).toEqual([{ name: 'Uncategorized' }])
  })

  test('the transaction sees its own writes before commit', async () => {
    await t.db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values({ key: 'a', value: '1' }).execute()
      expect(await trx.selectFrom('settings').select('key').execute()).toEqual([{ key: 'a' }])
    })
  })

  /**
   * Two transactions that really overlap: `first` writes and then waits; `second` and a plain
   * query are started while `first` is still open; only then does `first` end. On PGlite the
   * dialect must serialise them (one session), on the server they run side by side; either
   * way the write of the one that rolls back must vanish and every other write must stay.
   */
  async function overlap(firstOutcome: 'commit' | 'rollback') {
    const firstWrote = Promise.withResolvers<void>()
    const endFirst = Promise.withResolvers<void>()
    const secondWrote = Promise.withResolvers<void>()
    const events: string[] = []

    const first = outcome(
      t.db.transaction().execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'first', value: firstOutcome }).execute()
        events.push('first wrote')
        firstWrote.resolve()
        await endFirst.promise
        events.push('first ends')
        if (firstOutcome === 'rollback') throw new Rollback('first')
      }),
    )

    await firstWrote.promise
    const second = outcome(
      t.db.transaction().execute(async (trx) => {
        events.push('second starts')
        await trx
          .insertInto('settings')
          .values({ key: 'second', value: firstOutcome === 'commit' ? 'rollback' : 'commit' })
          .execute()
        events.push('second wrote')
        secondWrote.resolve()
        if (firstOutcome === 'commit') throw new Rollback('second')
      }),
    )
    // A query outside any transaction, issued while `first` is open: it must not join it.
    const plain = outcome(t.db.insertInto('settings').values({ key: 'plain', value: 'commit' }).execute())

    // On the server `second` needs no turn of `first`'s: wait until it has written (it may have
    // to open a new connection, which on a loaded machine takes a while), or 10 s if it is
    // wrongly queued behind `first`. PGlite has one session, so `second` cannot start before
    // `first` ends: give it 50 ms to wrongly try.
    await (backend === 'pglite' ? Bun.sleep(50) : Promise.race([secondWrote.promise, Bun.sleep(10_000)]))
    endFirst.resolve()
    expect(await Promise.all([first, second, plain])).toEqual(firstOutcome === 'commit' ? ['ok', 'rolled back', 'ok'] : ['rolled back', 'ok', 'ok'])
    expect(await t.db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute()).toEqual(
      [
        { key: 'first', value: firstOutcome },
        { key: 'plain', value: 'commit' },
        { key: 'second', value: firstOutcome === 'commit' ? 'rollback' : 'commit' },
      ].filter((r) => r.value === 'commit'),
    )
    if (backend === 'pglite') {
      // One PGlite session: the second transaction may only begin once the first has ended.
      expect(events).toEqual(['first wrote', 'first ends', 'second starts', 'second wrote'])
    } else {
      // Separate server connections: the second ran to its end while the first waited.
      expect(events).toEqual(['first wrote', 'second starts', 'second wrote', 'first ends'])
    }
  }

  test('overlapping transactions: the first rolls back after writing, the second commits', () => overlap('rollback'))

  test('overlapping transactions: the first commits, the second rolls back after writing', () => overlap('commit'))

  test('many concurrent transactions each keep or lose exactly their own writes', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        outcome(
          t.db.transaction().execute(async (trx) => {
            await trx
              .insertInto('settings')
              .values({ key: `k${String(i).padStart(2, '0')}`, value: String(i) })
              .execute()
            await Bun.sleep(1)
            if (i % 2 === 1) throw new Rollback(String(i))
          }),
        ),
      ),
    )
    expect(outcomes.filter((o) => o === 'ok').length).toBe(10)
    expect(await names()).toEqual(Array.from({ length: 10 }, (_, i) => `k${String(i * 2).padStart(2, '0')}`))
  })
})
