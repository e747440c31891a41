import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { escapeLike, KyselyItemRepository } from '../../src/repositories/item-repository'
import { TransactionRequiredError } from '../../src/repositories/transaction'
import { countingQueries, inTransactionOf, useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'
import { anyTimestamp } from '../support/timestamp'

describe('ItemRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyItemRepository(t.db)
  const inTransaction = inTransactionOf(
    () => t.db,
    (trx) => new KyselyItemRepository(trx),
  )
  const addCategory = async (name: string) => (await t.db.insertInto('categories').values({ name }).returning('id').executeTakeFirstOrThrow()).id

  test('create fills defaults: quantity 1, unknown fields null, category name joined', async () => {
    const item = await repo().create({ name: 'Tent', categoryId: 1 })
    expect(item).toEqual({
      id: 1,
      name: 'Tent',
      weightGrams: null,
      priceCents: null,
      categoryId: 1,
      categoryName: 'Uncategorized',
      notes: null,
      productUrl: null,
      imageFilename: null,
      imageSourceUrl: null,
      quantity: 1,
      createdAt: anyTimestamp(),
      updatedAt: anyTimestamp(),
    })
    expect(Date.parse(item.updatedAt)).toBe(Date.parse(item.createdAt))
  })

  test('create stores every field', async () => {
    const shelter = await addCategory('Shelter')
    const input = {
      name: 'Stake',
      categoryId: shelter,
      weightGrams: 12.5,
      priceCents: 150,
      notes: 'titanium',
      productUrl: 'https://example.com/stake',
      imageFilename: 'abc.png',
      imageSourceUrl: 'https://example.com/stake.png',
      quantity: 8,
    }
    const created = await repo().create(input)
    expect(created).toMatchObject({ ...input, id: 1, categoryName: 'Shelter' })
    expect(await repo().findById(created.id)).toEqual(created)
  })

  test('create with an unknown category is a ValidationError on categoryId', async () => {
    const error = await repo()
      .create({ name: 'Tent', categoryId: 42 })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.details).toEqual([{ path: 'categoryId', message: 'category does not exist' }])
    expect(await t.db.selectFrom('items').selectAll().execute()).toEqual([])
  })

  test('check constraints reject negative or non-finite weights, negative prices and quantity < 1', async () => {
    for (const bad of [{ weightGrams: -1 }, { weightGrams: Number.POSITIVE_INFINITY }, { weightGrams: Number.NaN }, { priceCents: -1 }, { quantity: 0 }]) {
      const error = await repo()
        .create({ name: 'Bad', categoryId: 1, ...bad })
        .catch((e) => e)
      expect(error).toBeInstanceOf(ValidationError)
    }
    expect(await t.db.selectFrom('items').selectAll().execute()).toEqual([])
  })

  test('findById of a missing item is undefined', async () => {
    expect(await repo().findById(7)).toBeUndefined()
  })

  test('list orders by name case-insensitively, then id, with category names', async () => {
    const shelter = await addCategory('Shelter')
    await repo().create({ name: 'stove', categoryId: 1 })
    await repo().create({ name: 'Tent', categoryId: shelter })
    await repo().create({ name: 'Bag', categoryId: 1 })
    await repo().create({ name: 'stove', categoryId: shelter })
    const list = await repo().list()
    expect(list.map((i) => [i.id, i.name, i.categoryName])).toEqual([
      [3, 'Bag', 'Uncategorized'],
      [1, 'stove', 'Uncategorized'],
      [4, 'stove', 'Shelter'],
      [2, 'Tent', 'Shelter'],
    ])
    expect((await repo().list({ categoryId: shelter })).map((i) => i.id)).toEqual([4, 2])
    expect(await repo().list({ categoryId: 999 })).toEqual([])
  })

  test('q matches name or notes, case-insensitive, with %, _ and \\ taken literally', async () => {
    const names = ['100% wool', '100 wool', 'a_b', 'axb', 'back\\slash', 'backslash', 'Plain']
    for (const name of names) await repo().create({ name, categoryId: 1, notes: name === 'Plain' ? 'WOOL socks' : null })
    const search = async (q: string) => (await repo().list({ q })).map((i) => i.name)
    expect(await search('wool')).toEqual(['100 wool', '100% wool', 'Plain'])
    expect(await search('%')).toEqual(['100% wool'])
    expect(await search('_')).toEqual(['a_b'])
    expect(await search('\\')).toEqual(['back\\slash'])
    expect(await search('PLAIN')).toEqual(['Plain'])
    expect(await search('socks')).toEqual(['Plain'])
    expect(await search('nothing')).toEqual([])
    expect(await repo().list({ q: 'wool', categoryId: 1 })).toHaveLength(3)
  })

  test('escapeLike escapes the LIKE metacharacters', () => {
    expect(escapeLike('a%b_c\\d')).toBe('a\\%b\\_c\\\\d')
  })

  test('list reads in one query', async () => {
    const counting = countingQueries(t.db)
    for (const name of ['a', 'b', 'c']) await repo().create({ name, categoryId: 1 })
    expect(await new KyselyItemRepository(counting.db).list()).toHaveLength(3)
    expect(counting.queries).toBe(1)
  })

  test('update changes only the given fields and moves updatedAt', async () => {
    const shelter = await addCategory('Shelter')
    const item = await repo().create({ name: 'Tent', categoryId: 1, weightGrams: 1000, priceCents: 500, notes: 'old' })
    const past = new Date('2020-01-01T00:00:00Z')
    await t.db.updateTable('items').set({ created_at: past, updated_at: past }).execute()
    const updated = await repo().update(item.id, { categoryId: shelter, weightGrams: null, notes: 'new', quantity: 2 })
    expect(updated).toMatchObject({
      id: item.id,
      name: 'Tent',
      categoryId: shelter,
      categoryName: 'Shelter',
      weightGrams: null,
      priceCents: 500,
      notes: 'new',
      quantity: 2,
      createdAt: past.toISOString(),
    })
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(past.getTime())
  })

  test('update errors: missing item, unknown category, check violation', async () => {
    const item = await repo().create({ name: 'Tent', categoryId: 1 })
    await expect(repo().update(99, { name: 'x' })).rejects.toBeInstanceOf(NotFoundError)
    const error = await repo()
      .update(item.id, { categoryId: 99 })
      .catch((e) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(error.details[0].path).toBe('categoryId')
    await expect(repo().update(item.id, { priceCents: -5 })).rejects.toBeInstanceOf(ValidationError)
    expect(await repo().findById(item.id)).toEqual(item)
  })

  test('delete removes the item and its setup entries; a missing item is NotFoundError', async () => {
    const item = await repo().create({ name: 'Tent', categoryId: 1 })
    const other = await repo().create({ name: 'Stove', categoryId: 1 })
    const setup = await t.db.insertInto('setups').values({ name: 'Trip' }).returning('id').executeTakeFirstOrThrow()
    await t.db
      .insertInto('setup_items')
      .values([
        { setup_id: setup.id, item_id: item.id },
        { setup_id: setup.id, item_id: other.id },
      ])
      .execute()
    await repo().delete(item.id)
    expect(await repo().findById(item.id)).toBeUndefined()
    expect(await t.db.selectFrom('setup_items').select('item_id').execute()).toEqual([{ item_id: other.id }])
    await expect(repo().delete(item.id)).rejects.toBeInstanceOf(NotFoundError)
  })

  test('reassignCategory moves every item of one category and counts them', async () => {
    const shelter = await addCategory('Shelter')
    const sleep = await addCategory('Sleep')
    await repo().create({ name: 'Tent', categoryId: shelter })
    await repo().create({ name: 'Stakes', categoryId: shelter })
    await repo().create({ name: 'Bag', categoryId: sleep })
    expect(await rejection(repo().reassignCategory(shelter, 1))).toBeInstanceOf(TransactionRequiredError)
    expect(await inTransaction((items) => items.reassignCategory(shelter, 1))).toBe(2)
    expect((await repo().list()).map((i) => [i.name, i.categoryId])).toEqual([
      ['Bag', sleep],
      ['Stakes', 1],
      ['Tent', 1],
    ])
    expect(await inTransaction((items) => items.reassignCategory(shelter, 1))).toBe(0)
  })

  test('reassignCategory to a missing category is a ConflictError and moves nothing', async () => {
    const shelter = await addCategory('Shelter')
    await repo().create({ name: 'Tent', categoryId: shelter })
    const error = await inTransaction((items) => items.reassignCategory(shelter, 99)).catch((e) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error.constraint).toBe('items_category_id_fkey')
    expect((await repo().list())[0]?.categoryId).toBe(shelter)
  })
})
