import { describe, expect, test } from 'bun:test'
import { useTestDatabase } from '../support/database'

describe('test database reset', () => {
  const t = useTestDatabase()

  test('a test may leave rows behind', async () => {
    await t.db.insertInto('categories').values({ name: 'Shelter' }).execute()
    await t.db.insertInto('settings').values({ key: 'currency', value: 'EUR' }).execute()
  })

  test('the next test sees only the seed, and ids start over', async () => {
    expect(await t.db.selectFrom('categories').select(['id', 'name', 'icon']).execute()).toEqual([
      { id: 1, name: 'Uncategorized', icon: 'package' },
    ])
    expect(await t.db.selectFrom('settings').selectAll().execute()).toEqual([])
    const { id } = await t.db.insertInto('categories').values({ name: 'Sleep' }).returning('id').executeTakeFirstOrThrow()
    expect(id).toBe(2)
  })
})
