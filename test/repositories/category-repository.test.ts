import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError } from '../../src/errors'
import { KyselyCategoryRepository } from '../../src/repositories/category-repository'
import { countingQueries, useTestDatabase } from '../support/database'
import { anyTimestamp } from '../support/timestamp'

describe('CategoryRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyCategoryRepository(t.db)
  const addItem = (category_id: number, name: string, weight_grams: number | null, price_cents: number | null, quantity: number) =>
    t.db.insertInto('items').values({ category_id, name, weight_grams, price_cents, quantity }).execute()

  test('list of the seed: Uncategorized with zero totals', async () => {
    expect(await repo().list()).toEqual([
      { id: 1, name: 'Uncategorized', icon: 'package', createdAt: anyTimestamp(), itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0 },
    ])
  })

  test('list totals count quantity, treat unknown weight and price as 0, and are ordered by name', async () => {
    const sleep = (await repo().create({ name: 'sleep', icon: 'bed' })).id
    const shelter = (await repo().create({ name: 'Shelter', icon: 'tent' })).id
    await addItem(shelter, 'Tent', 1250.5, 34900, 1)
    await addItem(shelter, 'Stakes', 12.5, 150, 8) // 100 g, 1200 cents
    await addItem(shelter, 'Guylines', null, null, 3) // counted as an item, adds nothing
    await addItem(1, 'Mug', null, 999, 2) // price only: 1998 cents
    await addItem(1, 'Spoon', 15.25, null, 2) // weight only: 30.5 g
    const list = await repo().list()
    expect(list.map(({ createdAt, ...rest }) => rest)).toEqual([
      { id: shelter, name: 'Shelter', icon: 'tent', itemCount: 3, totalWeightGrams: 1350.5, totalPriceCents: 36100 },
      { id: sleep, name: 'sleep', icon: 'bed', itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0 },
      { id: 1, name: 'Uncategorized', icon: 'package', itemCount: 2, totalWeightGrams: 30.5, totalPriceCents: 1998 },
    ])
  })

  test('price totals beyond the integer range stay exact', async () => {
    await addItem(1, 'Gold', null, 9_000_000, 1000)
    expect((await repo().list())[0]?.totalPriceCents).toBe(9_000_000_000)
  })

  test('list reads in one query', async () => {
    await repo().create({ name: 'Shelter' })
    await addItem(1, 'Mug', 100, 100, 1)
    const counting = countingQueries(t.db)
    expect(await new KyselyCategoryRepository(counting.db).list()).toHaveLength(2)
    expect(counting.queries).toBe(1)
  })

  test('create defaults the icon, and findById reads it back', async () => {
    const created = await repo().create({ name: 'Shelter' })
    expect(created).toEqual({ id: 2, name: 'Shelter', icon: 'package', createdAt: anyTimestamp() })
    expect(await repo().findById(2)).toEqual(created)
    expect(await repo().findById(3)).toBeUndefined()
  })

  test('create with a taken name is a ConflictError on categories_name_key', async () => {
    await repo().create({ name: 'Shelter' })
    const error = await repo()
      .create({ name: 'Shelter', icon: 'tent' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error.constraint).toBe('categories_name_key')
    expect(error.message).toBe('a category with this name already exists')
  })

  test('update changes the given fields', async () => {
    const { id } = await repo().create({ name: 'Shelter', icon: 'tent' })
    expect(await repo().update(id, { name: 'Shelters' })).toMatchObject({ id, name: 'Shelters', icon: 'tent' })
    expect(await repo().update(id, { icon: 'home' })).toMatchObject({ id, name: 'Shelters', icon: 'home' })
    expect(await repo().update(id, {})).toMatchObject({ id, name: 'Shelters', icon: 'home' })
  })

  test('update errors: missing category, taken name', async () => {
    const { id } = await repo().create({ name: 'Shelter' })
    await expect(repo().update(99, { name: 'x' })).rejects.toBeInstanceOf(NotFoundError)
    await expect(repo().update(99, {})).rejects.toBeInstanceOf(NotFoundError)
    const error = await repo()
      .update(id, { name: 'Uncategorized' })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error.constraint).toBe('categories_name_key')
    expect((await repo().findById(id))?.name).toBe('Shelter')
  })

  test('delete removes the category; a missing one is NotFoundError', async () => {
    const { id } = await repo().create({ name: 'Shelter' })
    await repo().delete(id)
    expect(await repo().findById(id)).toBeUndefined()
    await expect(repo().delete(id)).rejects.toBeInstanceOf(NotFoundError)
  })

  test('delete of a category that items still use is a ConflictError', async () => {
    const { id } = await repo().create({ name: 'Shelter' })
    await addItem(id, 'Tent', 1000, 100, 1)
    const error = await repo()
      .delete(id)
      .catch((e) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error.constraint).toBe('items_category_id_fkey')
    expect(await repo().findById(id)).toBeDefined()
  })
})
