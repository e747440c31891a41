import { describe, expect, test } from 'bun:test'
import { createStore } from '../../src/repositories'
import { useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'

describe('Store', () => {
  const t = useTestDatabase()
  const keys = async () => (await t.db.selectFrom('settings').select('key').orderBy('key').execute()).map((r) => r.key)

  test('write commits when its work resolves and rolls every write back when it throws', async () => {
    const store = createStore(t.db)
    await store.write(async (repos) => {
      await repos.settings.set('a', '1')
      await repos.settings.set('b', '2')
    })
    const error = await rejection(
      store.write(async (repos) => {
        await repos.settings.set('c', '3')
        throw new Error('stop')
      }),
    )
    expect((error as Error).message).toBe('stop')
    expect(await keys()).toEqual(['a', 'b'])
  })

  test('read hands out repositories outside a transaction; write hands out transaction-bound ones', async () => {
    const store = createStore(t.db)
    const inRead = await store.read(async (repos) => rejection(repos.users.lockForFirstUser()))
    expect((inRead as Error).name).toBe('TransactionRequiredError')
    expect(await store.write(async (repos) => repos.users.lockForFirstUser())).toBeUndefined()
  })

  test('read or write inside write is refused, so no query can slip outside the transaction', async () => {
    const store = createStore(t.db)
    for (const nested of [() => store.read((repos) => repos.settings.all()), () => store.write((repos) => repos.settings.set('x', '1'))]) {
      const error = await rejection(
        store.write(async (repos) => {
          await repos.settings.set('outer', '1')
          await nested()
        }),
      )
      expect((error as Error).message).toMatch(/^Store\.(read|write)\(\) was called inside Store\.write\(\)/)
    }
    expect(await keys()).toEqual([])
    // Concurrent, not nested: a read while another request's write is open is fine.
    const open = Promise.withResolvers<void>()
    const writing = store.write(async (repos) => {
      await repos.settings.set('w', '1')
      await open.promise
    })
    const reading = store.read(async () => 'read ran')
    open.resolve()
    expect(await Promise.all([writing, reading])).toEqual([undefined, 'read ran'])
  })
})
