import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { MAX_PRICE_CENTS, MAX_QUANTITY, MAX_WEIGHT_GRAMS } from '../../src/schemas/common'
import { useTestApp } from '../support/app'

// Every total at the bounds' maxima over many rows: exact, never an error. (A million rows
// would total 9e15 cents, still below 2^53; 50,000 keep the test within seconds.)
const ROWS = 50_000
const SETUP_ROWS = 1_000
const price = MAX_PRICE_CENTS * MAX_QUANTITY
const weight = MAX_WEIGHT_GRAMS * MAX_QUANTITY

describe('totals at the bounds', () => {
  const t = useTestApp()

  test('categories, setups, setup totals and byCategory add up exactly', async () => {
    const gear = (await t.call('POST', '/api/categories', { name: 'Gear' })).body.id
    await sql`insert into items (name, category_id, weight_grams, price_cents, quantity)
      select 'item ' || g, case when g <= ${SETUP_ROWS / 2} then ${gear}::int else 1 end, ${MAX_WEIGHT_GRAMS}, ${MAX_PRICE_CENTS}, ${MAX_QUANTITY}
      from generate_series(1, ${ROWS}::int) g`.execute(t.db)
    const all = (await t.call('POST', '/api/setups', { name: 'Everything' })).body.id
    const some = (await t.call('POST', '/api/setups', { name: 'Some' })).body.id
    await sql`insert into setup_items (setup_id, item_id, classification) select ${all}::int, id, 'base' from items`.execute(t.db)
    await sql`insert into setup_items (setup_id, item_id, classification)
      select ${some}::int, id, case when id % 2 = 0 then 'worn' else 'base' end from items where id <= ${SETUP_ROWS}`.execute(t.db)

    const categories = await t.call('GET', '/api/categories')
    expect(categories.status).toBe(200)
    const inGear = SETUP_ROWS / 2
    expect(categories.body.map((c: any) => [c.name, c.itemCount, c.totalWeightGrams, c.totalPriceCents])).toEqual([
      ['Gear', inGear, inGear * weight, inGear * price],
      ['Uncategorized', ROWS - inGear, (ROWS - inGear) * weight, (ROWS - inGear) * price],
    ])

    const setups = await t.call('GET', '/api/setups')
    expect(setups.status).toBe(200)
    expect(setups.body.map((s: any) => [s.name, s.itemCount, s.totalWeightGrams, s.totalPriceCents])).toEqual([
      ['Everything', ROWS, ROWS * weight, ROWS * price],
      ['Some', SETUP_ROWS, SETUP_ROWS * weight, SETUP_ROWS * price],
    ])

    const detail = await t.call('GET', `/api/setups/${some}`)
    expect(detail.status).toBe(200)
    expect(detail.body.totals).toEqual({
      baseWeightGrams: (SETUP_ROWS / 2) * weight,
      wornWeightGrams: (SETUP_ROWS / 2) * weight,
      consumableWeightGrams: 0,
      totalWeightGrams: SETUP_ROWS * weight,
      totalPriceCents: SETUP_ROWS * price,
    })
    expect(detail.body.byCategory.map((c: any) => [c.categoryName, c.itemCount, c.weightGrams, c.priceCents])).toEqual([
      ['Gear', inGear, inGear * weight, inGear * price],
      ['Uncategorized', SETUP_ROWS - inGear, (SETUP_ROWS - inGear) * weight, (SETUP_ROWS - inGear) * price],
    ])
  })
})

describe('totals of fractional weights', () => {
  const t = useTestApp()

  test('add up as the decimals entered (0.1 + 0.2 is 0.3, 0.1 x 3 is 0.3), in every total', async () => {
    const gear = (await t.call('POST', '/api/categories', { name: 'Gear' })).body.id
    const ids: number[] = []
    for (const [weightGrams, quantity] of [
      [0.1, 1],
      [0.2, 1],
      [0.1, 3],
      [1250.7, 1],
    ] as const) {
      ids.push((await t.call('POST', '/api/items', { name: `w${weightGrams}x${quantity}`, categoryId: gear, weightGrams, quantity })).body.id)
    }
    const setup = (await t.call('POST', '/api/setups', { name: 'Trip' })).body.id
    const classes = ['base', 'base', 'worn', 'consumable']
    await t.call('PUT', `/api/setups/${setup}/items`, { items: ids.map((itemId, i) => ({ itemId, classification: classes[i] })) })

    const total = 1251.3
    expect((await t.call('GET', '/api/categories')).body.find((c: any) => c.id === gear).totalWeightGrams).toBe(total)
    expect((await t.call('GET', '/api/setups')).body[0].totalWeightGrams).toBe(total)
    const detail = (await t.call('GET', `/api/setups/${setup}`)).body
    expect(detail.totals).toEqual({ baseWeightGrams: 0.3, wornWeightGrams: 0.3, consumableWeightGrams: 1250.7, totalWeightGrams: total, totalPriceCents: 0 })
    expect(detail.byCategory.map((c: any) => c.weightGrams)).toEqual([total])

    // A weight with all 17 significant digits a double holds totals to itself, not to 15 digits.
    const precise = 0.12345678901234568
    const other = (await t.call('POST', '/api/categories', { name: 'Other' })).body.id
    await t.call('POST', '/api/items', { name: 'precise', categoryId: other, weightGrams: precise })
    expect((await t.call('GET', '/api/categories')).body.find((c: any) => c.id === other).totalWeightGrams).toBe(precise)
  })
})
