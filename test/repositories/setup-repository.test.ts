import { describe, expect, test } from 'bun:test'
import type { Insertable } from 'kysely'
import type { Items } from '../../src/db/types'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { KyselySetupRepository } from '../../src/repositories/setup-repository'
import { TransactionRequiredError } from '../../src/repositories/transaction'
import { inTransactionOf, useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'
import { anyTimestamp } from '../support/timestamp'

describe('KyselySetupRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselySetupRepository(t.db)
  const inTransaction = inTransactionOf(
    () => t.db,
    (trx) => new KyselySetupRepository(trx),
  )

  async function insertItem(values: Partial<Insertable<Items>> & { name: string }): Promise<number> {
    const row = await t.db
      .insertInto('items')
      .values({ category_id: 1, ...values })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  /**
   * Categories Shelter (2) and Cooking (3) besides Uncategorized (1), and six items:
   *   tent    Shelter        1200.5 g x1   30000 c x1
   *   stakes  Shelter          10   g x8     150 c x8  ->   80 g,  1200 c
   *   stove   Cooking          85   g x1    null         ->   85 g,     0 c
   *   gas     Cooking         null   x2     600 c x2     ->    0 g,  1200 c
   *   food    Cooking         250.25 g x3    400 c x3    ->  750.75 g, 1200 c
   *   jacket  Uncategorized   300   g x1   12000 c x1
   */
  async function gear() {
    await t.db
      .insertInto('categories')
      .values([{ name: 'Shelter' }, { name: 'Cooking' }])
      .execute()
    return {
      tent: await insertItem({ name: 'tent', category_id: 2, weight_grams: 1200.5, price_cents: 30000 }),
      stakes: await insertItem({ name: 'stakes', category_id: 2, weight_grams: 10, price_cents: 150, quantity: 8 }),
      stove: await insertItem({ name: 'stove', category_id: 3, weight_grams: 85 }),
      gas: await insertItem({ name: 'gas', category_id: 3, price_cents: 600, quantity: 2 }),
      food: await insertItem({ name: 'food', category_id: 3, weight_grams: 250.25, price_cents: 400, quantity: 3 }),
      jacket: await insertItem({ name: 'jacket', weight_grams: 300, price_cents: 12000 }),
    }
  }

  async function loadedSetup() {
    const g = await gear()
    const setup = await repo().create({ name: 'Overnighter' })
    await inTransaction((setups) =>
      setups.replaceItems(setup.id, [
        { itemId: g.tent, classification: 'base' },
        { itemId: g.stakes, classification: 'base' },
        { itemId: g.stove, classification: 'base' },
        { itemId: g.gas, classification: 'consumable' },
        { itemId: g.food, classification: 'consumable' },
        { itemId: g.jacket, classification: 'worn' },
      ]),
    )
    return { g, setup }
  }

  const itemsOf = async (setupId: number) => (await repo().findDetail(setupId))!.items.map((i) => [i.name, i.classification])

  describe('create and list', () => {
    test('create returns the stored setup', async () => {
      const setup = await repo().create({ name: 'Day hike' })
      expect(setup).toEqual({ id: 1, name: 'Day hike', createdAt: anyTimestamp(), updatedAt: anyTimestamp() })
    })

    test('list orders by name, case-insensitive, then id, with zero totals for empty setups', async () => {
      await repo().create({ name: 'winter' })
      await repo().create({ name: 'Alpine' })
      await repo().create({ name: 'winter' })
      const list = await repo().list()
      expect(list.map((s) => [s.id, s.name])).toEqual([
        [2, 'Alpine'],
        [1, 'winter'],
        [3, 'winter'],
      ])
      expect(list[0]).toEqual({
        id: 2,
        name: 'Alpine',
        itemCount: 0,
        totalWeightGrams: 0,
        totalPriceCents: 0,
        createdAt: anyTimestamp(),
        updatedAt: anyTimestamp(),
      })
    })

    test('list totals count quantity, and unknown weights and prices as 0', async () => {
      const { g } = await loadedSetup()
      const light = await repo().create({ name: 'Light' })
      await inTransaction((s) =>
        s.replaceItems(light.id, [
          { itemId: g.stakes, classification: 'base' },
          { itemId: g.gas, classification: 'consumable' },
        ]),
      )
      const list = await repo().list()
      expect(list.map(({ name, itemCount, totalWeightGrams, totalPriceCents }) => ({ name, itemCount, totalWeightGrams, totalPriceCents }))).toEqual([
        { name: 'Light', itemCount: 2, totalWeightGrams: 80, totalPriceCents: 2400 },
        { name: 'Overnighter', itemCount: 6, totalWeightGrams: 2416.25, totalPriceCents: 45600 },
      ])
    })

    test('price x quantity beyond the integer range still adds up', async () => {
      const pricey = await insertItem({ name: 'pricey', price_cents: 9_000_000, quantity: 1000 })
      const setup = await repo().create({ name: 'Expensive' })
      await inTransaction((s) => s.replaceItems(setup.id, [{ itemId: pricey, classification: 'base' }]))
      expect((await repo().list())[0]?.totalPriceCents).toBe(9_000_000_000)
      expect((await repo().findDetail(setup.id))?.totals.totalPriceCents).toBe(9_000_000_000)
    })
  })

  describe('findDetail', () => {
    test('lists items by category name then item name, with totals by classification and by category', async () => {
      const { g, setup } = await loadedSetup()
      const detail = await repo().findDetail(setup.id)
      expect(detail?.items.map((i) => [i.categoryName, i.name, i.classification])).toEqual([
        ['Cooking', 'food', 'consumable'],
        ['Cooking', 'gas', 'consumable'],
        ['Cooking', 'stove', 'base'],
        ['Shelter', 'stakes', 'base'],
        ['Shelter', 'tent', 'base'],
        ['Uncategorized', 'jacket', 'worn'],
      ])
      expect(detail?.totals).toEqual({
        baseWeightGrams: 1365.5, // 1200.5 + 10 x 8 + 85
        wornWeightGrams: 300,
        consumableWeightGrams: 750.75, // gas has no weight; 250.25 x 3
        totalWeightGrams: 2416.25,
        totalPriceCents: 45600, // 30000 + 150 x 8 + 600 x 2 + 400 x 3 + 12000
      })
      expect(detail?.byCategory).toEqual([
        { categoryId: 3, categoryName: 'Cooking', weightGrams: 835.75, priceCents: 2400, itemCount: 3 },
        { categoryId: 2, categoryName: 'Shelter', weightGrams: 1280.5, priceCents: 31200, itemCount: 2 },
        { categoryId: 1, categoryName: 'Uncategorized', weightGrams: 300, priceCents: 12000, itemCount: 1 },
      ])
      const gas = detail?.items.find((i) => i.id === g.gas)
      expect(gas).toEqual({
        id: g.gas,
        name: 'gas',
        weightGrams: null,
        priceCents: 600,
        categoryId: 3,
        categoryName: 'Cooking',
        notes: null,
        productUrl: null,
        imageFilename: null,
        imageSourceUrl: null,
        quantity: 2,
        classification: 'consumable',
        createdAt: anyTimestamp(),
        updatedAt: anyTimestamp(),
      })
      const stored = await t.db.selectFrom('items').select('created_at').where('id', '=', g.gas).executeTakeFirstOrThrow()
      expect(gas?.createdAt).toBe(stored.created_at.toISOString())
    })

    test('an empty setup has no items, zero totals and no categories', async () => {
      const setup = await repo().create({ name: 'Empty' })
      expect(await repo().findDetail(setup.id)).toEqual({
        ...setup,
        items: [],
        totals: { baseWeightGrams: 0, wornWeightGrams: 0, consumableWeightGrams: 0, totalWeightGrams: 0, totalPriceCents: 0 },
        byCategory: [],
      })
    })

    test('a missing setup is undefined', async () => {
      expect(await repo().findDetail(42)).toBeUndefined()
    })

    test('deleting an item takes it out of the setup and its totals', async () => {
      const { g, setup } = await loadedSetup()
      await t.db.deleteFrom('items').where('id', '=', g.food).execute()
      const detail = await repo().findDetail(setup.id)
      expect(detail?.items.map((i) => i.name)).toEqual(['gas', 'stove', 'stakes', 'tent', 'jacket'])
      expect(detail?.totals.consumableWeightGrams).toBe(0)
      expect(detail?.totals.totalPriceCents).toBe(44400)
    })
  })

  describe('rename and delete', () => {
    test('rename changes the name and moves updatedAt', async () => {
      const setup = await repo().create({ name: 'Old' })
      await Bun.sleep(5)
      const renamed = await repo().rename(setup.id, 'New')
      expect(renamed.name).toBe('New')
      expect(renamed.createdAt).toEqual(setup.createdAt)
      expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(Date.parse(setup.updatedAt))
    })

    test('rename of a missing setup is NotFoundError', async () => {
      await expect(repo().rename(7, 'x')).rejects.toThrow(new NotFoundError('setup', 7))
    })

    test('delete removes the setup and its rows in setup_items, but not the items', async () => {
      const { setup } = await loadedSetup()
      await repo().delete(setup.id)
      expect(await repo().findDetail(setup.id)).toBeUndefined()
      expect(await t.db.selectFrom('setup_items').selectAll().execute()).toEqual([])
      expect((await t.db.selectFrom('items').select('id').execute()).length).toBe(6)
    })

    test('delete of a missing setup is NotFoundError', async () => {
      await expect(repo().delete(7)).rejects.toThrow(NotFoundError)
    })
  })

  describe('replaceItems', () => {
    test('replaces the list, keeps no old entry, and moves updatedAt', async () => {
      const { g, setup } = await loadedSetup()
      const before = (await repo().findDetail(setup.id))!.updatedAt
      await Bun.sleep(5)
      await inTransaction((s) =>
        s.replaceItems(setup.id, [
          { itemId: g.jacket, classification: 'base' },
          { itemId: g.stove, classification: 'consumable' },
        ]),
      )
      const after = await repo().findDetail(setup.id)
      expect(after?.items.map((i) => [i.name, i.classification])).toEqual([
        ['stove', 'consumable'],
        ['jacket', 'base'],
      ])
      expect(Date.parse(after!.updatedAt)).toBeGreaterThan(Date.parse(before))
    })

    test('outside a transaction replaceItems and setClassification refuse to run and change nothing', async () => {
      const { g, setup } = await loadedSetup()
      const before = await repo().findDetail(setup.id)
      expect(await rejection(repo().replaceItems(setup.id, []))).toBeInstanceOf(TransactionRequiredError)
      expect(await rejection(repo().setClassification(setup.id, g.tent, 'worn'))).toBeInstanceOf(TransactionRequiredError)
      expect(await repo().findDetail(setup.id)).toEqual(before)
    })

    test('an empty list empties the setup', async () => {
      const { setup } = await loadedSetup()
      await inTransaction((s) => s.replaceItems(setup.id, []))
      expect(await itemsOf(setup.id)).toEqual([])
    })

    test('unknown item ids are a ValidationError naming each by index, and the old list stays', async () => {
      const { g, setup } = await loadedSetup()
      const before = await repo().findDetail(setup.id)
      const attempt = inTransaction((s) =>
        s.replaceItems(setup.id, [
          { itemId: g.tent, classification: 'worn' },
          { itemId: 999, classification: 'base' },
          { itemId: g.stove, classification: 'base' },
          { itemId: 1000, classification: 'base' },
        ]),
      )
      const error = await attempt.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details).toEqual([
        { path: 'items.1.itemId', message: 'item 999 does not exist' },
        { path: 'items.3.itemId', message: 'item 1000 does not exist' },
      ])
      // The setup row was touched first: its updatedAt is rolled back with everything else.
      expect(await repo().findDetail(setup.id)).toEqual(before)
    })

    test('a failure after the old rows were deleted rolls the whole replace back', async () => {
      const { g, setup } = await loadedSetup()
      const before = await repo().findDetail(setup.id)
      // A repeated item passes the existence check and fails at the insert, after the delete.
      const attempt = inTransaction((s) =>
        s.replaceItems(setup.id, [
          { itemId: g.tent, classification: 'base' },
          { itemId: g.tent, classification: 'worn' },
        ]),
      )
      const error = await attempt.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConflictError)
      expect((error as ConflictError).constraint).toBe('setup_items_setup_id_item_id_key')
      expect(await repo().findDetail(setup.id)).toEqual(before)
    })

    test('a missing setup is NotFoundError', async () => {
      const tent = await insertItem({ name: 'tent' })
      await expect(inTransaction((s) => s.replaceItems(5, [{ itemId: tent, classification: 'base' }]))).rejects.toThrow(new NotFoundError('setup', 5))
      expect(await t.db.selectFrom('setup_items').selectAll().execute()).toEqual([])
    })
  })

  describe('setClassification', () => {
    test('changes one item and the totals follow', async () => {
      const { g, setup } = await loadedSetup()
      await inTransaction((s) => s.setClassification(setup.id, g.tent, 'worn'))
      const detail = await repo().findDetail(setup.id)
      expect(detail?.items.find((i) => i.id === g.tent)?.classification).toBe('worn')
      expect(detail?.totals).toMatchObject({ baseWeightGrams: 165, wornWeightGrams: 1500.5, totalWeightGrams: 2416.25 })
    })

    test('an item that is not in the setup is NotFoundError', async () => {
      const { setup } = await loadedSetup()
      const other = await insertItem({ name: 'other' })
      await expect(inTransaction((s) => s.setClassification(setup.id, other, 'worn'))).rejects.toThrow(new NotFoundError(`item ${other} in setup`, setup.id))
    })

    test('a missing setup is NotFoundError', async () => {
      const item = await insertItem({ name: 'thing' })
      await expect(inTransaction((s) => s.setClassification(3, item, 'worn'))).rejects.toThrow(new NotFoundError('setup', 3))
    })

    test('a classification outside base, worn, consumable is refused by the database', async () => {
      const { g, setup } = await loadedSetup()
      await expect(inTransaction((s) => s.setClassification(setup.id, g.tent, 'spare' as never))).rejects.toThrow(ValidationError)
    })
  })
})
