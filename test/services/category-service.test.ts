import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError } from '../../src/errors'
import { createStore, type Store } from '../../src/repositories'
import { CategoryService } from '../../src/services/category-service'
import { useTestDatabase } from '../support/database'
import { storeWith } from '../support/failures'

describe('CategoryService.delete', () => {
  const t = useTestDatabase()
  const service = (store: Store = createStore(t.db)) => new CategoryService(store)

  /** A category with an item, a thread and a candidate in it, plus a candidate of it in another thread. */
  async function populated() {
    const { id } = await t.db.insertInto('categories').values({ name: 'Shelter' }).returning('id').executeTakeFirstOrThrow()
    await t.db.insertInto('items').values({ name: 'Tent', category_id: id }).execute()
    await t.db.insertInto('items').values({ name: 'Mug', category_id: 1 }).execute()
    const thread = await t.db.insertInto('threads').values({ name: 'New tent', category_id: id }).returning('id').executeTakeFirstOrThrow()
    const other = await t.db.insertInto('threads').values({ name: 'Mugs', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    await t.db
      .insertInto('thread_candidates')
      .values([
        { thread_id: thread.id, name: 'Tent A', category_id: id },
        { thread_id: other.id, name: 'Mug A', category_id: id },
      ])
      .execute()
    return id
  }

  const state = async () => ({
    categories: await t.db.selectFrom('categories').select(['id', 'name']).orderBy('id').execute(),
    items: await t.db.selectFrom('items').select(['name', 'category_id']).orderBy('id').execute(),
    threads: await t.db.selectFrom('threads').select(['name', 'category_id']).orderBy('id').execute(),
    candidates: await t.db.selectFrom('thread_candidates').select(['name', 'category_id']).orderBy('id').execute(),
  })

  test('moves items, threads and candidates to Uncategorized, then deletes the category', async () => {
    const id = await populated()
    await service().delete(id)
    expect(await state()).toEqual({
      categories: [{ id: 1, name: 'Uncategorized' }],
      items: [
        { name: 'Tent', category_id: 1 },
        { name: 'Mug', category_id: 1 },
      ],
      threads: [
        { name: 'New tent', category_id: 1 },
        { name: 'Mugs', category_id: 1 },
      ],
      candidates: [
        { name: 'Tent A', category_id: 1 },
        { name: 'Mug A', category_id: 1 },
      ],
    })
  })

  test('Uncategorized cannot be deleted; a missing category is NotFoundError', async () => {
    await expect(service().delete(1)).rejects.toBeInstanceOf(ConflictError)
    await expect(service().delete(42)).rejects.toBeInstanceOf(NotFoundError)
    expect((await state()).categories).toEqual([{ id: 1, name: 'Uncategorized' }])
  })

  test('a failure after the moves rolls everything back', async () => {
    const id = await populated()
    const before = await state()
    const moved: string[] = []
    // The real transaction, but the final delete fails once items and threads have moved.
    const failing = storeWith(t.db, 'categories', (repos) => ({
      async delete() {
        moved.push(...(await repos.items.list({ categoryId: 1 })).map((i) => i.name))
        throw new Error('disk on fire')
      },
    }))
    await expect(service(failing).delete(id)).rejects.toThrow('disk on fire')
    expect(moved).toEqual(['Mug', 'Tent'])
    expect(await state()).toEqual(before)
  })
})
