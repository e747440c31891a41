import { describe, expect, test } from 'bun:test'
import { BAD_IDS, errorPaths, ISO, useTestApp } from '../support/app'

const ZERO_TOTALS = { baseWeightGrams: 0, wornWeightGrams: 0, consumableWeightGrams: 0, totalWeightGrams: 0, totalPriceCents: 0 }

describe('/api/setups', () => {
  const t = useTestApp()

  async function created(method: string, path: string, body: object) {
    const res = await t.call(method, path, body)
    expect(res.status).toBe(201)
    return res.body
  }

  /**
   * Through the API: categories Shelter and Cooking, and six items.
   *   tent    Shelter        1200.5  g x1   30000 c x1
   *   stakes  Shelter          10    g x8     150 c x8  ->   80 g,  1200 c
   *   stove   Cooking          85    g x1    unknown     ->   85 g,     0 c
   *   gas     Cooking        unknown  x2     600 c x2    ->    0 g,  1200 c
   *   food    Cooking         250.25 g x3     400 c x3   ->  750.75 g, 1200 c
   *   jacket  Uncategorized   300    g x1   12000 c x1
   */
  async function gear() {
    const shelter = await created('POST', '/api/categories', { name: 'Shelter' })
    const cooking = await created('POST', '/api/categories', { name: 'Cooking' })
    const item = (body: object) => created('POST', '/api/items', body)
    return {
      shelter,
      cooking,
      tent: await item({ name: 'tent', categoryId: shelter.id, weightGrams: 1200.5, priceCents: 30000 }),
      stakes: await item({ name: 'stakes', categoryId: shelter.id, weightGrams: 10, priceCents: 150, quantity: 8 }),
      stove: await item({ name: 'stove', categoryId: cooking.id, weightGrams: 85 }),
      gas: await item({ name: 'gas', categoryId: cooking.id, priceCents: 600, quantity: 2 }),
      food: await item({ name: 'food', categoryId: cooking.id, weightGrams: 250.25, priceCents: 400, quantity: 3 }),
      jacket: await item({ name: 'jacket', categoryId: 1, weightGrams: 300, priceCents: 12000, notes: 'down' }),
    }
  }

  async function loadedSetup() {
    const g = await gear()
    const setup = await created('POST', '/api/setups', { name: 'Overnighter' })
    const res = await t.call('PUT', `/api/setups/${setup.id}/items`, {
      items: [
        { itemId: g.tent.id, classification: 'base' },
        { itemId: g.stakes.id, classification: 'base' },
        { itemId: g.stove.id, classification: 'base' },
        { itemId: g.gas.id, classification: 'consumable' },
        { itemId: g.food.id, classification: 'consumable' },
        { itemId: g.jacket.id, classification: 'worn' },
      ],
    })
    expect(res.status).toBe(200)
    return { g, setup, detail: res.body }
  }

  describe('GET /api/setups', () => {
    test('is an empty list at first', async () => {
      expect(await t.call('GET', '/api/setups')).toMatchObject({ status: 200, body: [] })
    })

    test('lists setups by name with item count and totals x quantity, unknown weights and prices as 0', async () => {
      const { g, setup } = await loadedSetup()
      const light = await created('POST', '/api/setups', { name: 'light' })
      await t.call('PUT', `/api/setups/${light.id}/items`, {
        items: [
          { itemId: g.stakes.id, classification: 'base' },
          { itemId: g.gas.id, classification: 'consumable' },
        ],
      })
      const empty = await created('POST', '/api/setups', { name: 'Alpine' })
      const res = await t.call('GET', '/api/setups')
      expect(res.status).toBe(200)
      const stamps = { createdAt: expect.stringMatching(ISO), updatedAt: expect.stringMatching(ISO) }
      expect(res.body).toEqual([
        { id: empty.id, name: 'Alpine', itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0, ...stamps },
        { id: light.id, name: 'light', itemCount: 2, totalWeightGrams: 80, totalPriceCents: 2400, ...stamps },
        { id: setup.id, name: 'Overnighter', itemCount: 6, totalWeightGrams: 2416.25, totalPriceCents: 45600, ...stamps },
      ])
    })
  })

  describe('POST /api/setups', () => {
    test('creates an empty setup (201) in the detail shape', async () => {
      const res = await t.call('POST', '/api/setups', { name: 'Day hike' })
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        id: 1,
        name: 'Day hike',
        createdAt: expect.stringMatching(ISO),
        updatedAt: expect.stringMatching(ISO),
        items: [],
        totals: ZERO_TOTALS,
        byCategory: [],
      })
      expect((await t.call('GET', '/api/setups/1')).body).toEqual(res.body)
    })

    test('rejects a missing, blank, too long or non-string name and unknown keys (400 with paths)', async () => {
      const cases: [unknown, string[]][] = [
        [{}, ['name']],
        [{ name: '   ' }, ['name']],
        [{ name: 'x'.repeat(201) }, ['name']],
        [{ name: 7 }, ['name']],
        [{ name: 'ok', colour: 'red' }, ['colour']],
      ]
      for (const [body, expected] of cases) {
        const res = await t.call('POST', '/api/setups', body)
        expect(res.status).toBe(400)
        expect(res.body.error.code).toBe('validation_failed')
        expect(errorPaths(res)).toEqual(expected)
      }
      expect((await t.call('POST', '/api/setups', { name: 'x'.repeat(200) })).status).toBe(201)
    })

    test('rejects a body that is not JSON, and a name with a NUL character, without a 500', async () => {
      expect((await t.call('POST', '/api/setups', '{"name":')).status).toBe(400)
      expect((await t.call('POST', '/api/setups', { name: 'a\u0000b' })).status).toBe(400)
      expect((await t.call('GET', '/api/setups')).body).toEqual([])
    })
  })

  describe('GET /api/setups/:id', () => {
    test('returns items with their fields, category and classification, totals by classification and by category', async () => {
      const { g, setup, detail } = await loadedSetup()
      const res = await t.call('GET', `/api/setups/${setup.id}`)
      expect(res.status).toBe(200)
      expect(res.body).toEqual(detail)
      const inSetup = (item: { id: number }, categoryName: string, classification: string) => ({ ...item, categoryName, classification })
      expect(res.body).toEqual({
        id: setup.id,
        name: 'Overnighter',
        createdAt: setup.createdAt,
        updatedAt: expect.stringMatching(ISO),
        items: [
          inSetup(g.food, 'Cooking', 'consumable'),
          inSetup(g.gas, 'Cooking', 'consumable'),
          inSetup(g.stove, 'Cooking', 'base'),
          inSetup(g.stakes, 'Shelter', 'base'),
          inSetup(g.tent, 'Shelter', 'base'),
          inSetup(g.jacket, 'Uncategorized', 'worn'),
        ],
        totals: {
          baseWeightGrams: 1365.5, // 1200.5 + 10 x 8 + 85
          wornWeightGrams: 300,
          consumableWeightGrams: 750.75, // gas weight unknown (0) x 2 + 250.25 x 3
          totalWeightGrams: 2416.25,
          totalPriceCents: 45600, // 30000 + 150 x 8 + 0 + 600 x 2 + 400 x 3 + 12000
        },
        byCategory: [
          { categoryId: g.cooking.id, categoryName: 'Cooking', weightGrams: 835.75, priceCents: 2400, itemCount: 3 },
          { categoryId: g.shelter.id, categoryName: 'Shelter', weightGrams: 1280.5, priceCents: 31200, itemCount: 2 },
          { categoryId: 1, categoryName: 'Uncategorized', weightGrams: 300, priceCents: 12000, itemCount: 1 },
        ],
      })
      // The item inside a setup is the item as /api/items shows it.
      expect((await t.call('GET', `/api/items/${g.gas.id}`)).body).toEqual(g.gas)
      expect(g.gas.weightGrams).toBeNull()
    })

    test('follows changes to the items: a new quantity and a deleted item', async () => {
      const { g, setup } = await loadedSetup()
      expect((await t.call('PATCH', `/api/items/${g.tent.id}`, { quantity: 2 })).status).toBe(200)
      expect((await t.call('DELETE', `/api/items/${g.food.id}`)).status).toBe(204)
      const res = await t.call('GET', `/api/setups/${setup.id}`)
      expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(['gas', 'stove', 'stakes', 'tent', 'jacket'])
      expect(res.body.totals).toEqual({
        baseWeightGrams: 2566, // 1200.5 x 2 + 80 + 85
        wornWeightGrams: 300,
        consumableWeightGrams: 0,
        totalWeightGrams: 2866,
        totalPriceCents: 74400, // 60000 + 1200 + 1200 + 12000
      })
    })

    test('deleting an item changes the list of every setup that had it, so their updatedAt moves; others keep theirs', async () => {
      const { g, setup, detail } = await loadedSetup()
      const other = await created('POST', '/api/setups', { name: 'Day hike' })
      const filled = await t.call('PUT', `/api/setups/${other.id}/items`, { items: [{ itemId: g.jacket.id, classification: 'worn' }] })
      await Bun.sleep(5)
      expect((await t.call('DELETE', `/api/items/${g.food.id}`)).status).toBe(204)
      const after = (await t.call('GET', `/api/setups/${setup.id}`)).body
      expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(detail.updatedAt))
      expect((await t.call('GET', `/api/setups/${other.id}`)).body.updatedAt).toBe(filled.body.updatedAt)
      // A missing item changes nothing.
      expect((await t.call('DELETE', `/api/items/${g.food.id}`)).status).toBe(404)
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body.updatedAt).toBe(after.updatedAt)
    })

    test('a missing setup is a 404', async () => {
      const res = await t.call('GET', '/api/setups/12345')
      expect(res.status).toBe(404)
      expect(res.body.error).toEqual({ code: 'not_found', message: 'setup 12345 not found' })
    })
  })

  describe('PATCH /api/setups/:id', () => {
    test('renames the setup and returns its detail', async () => {
      const { setup, detail } = await loadedSetup()
      const res = await t.call('PATCH', `/api/setups/${setup.id}`, { name: 'Weekend' })
      expect(res.status).toBe(200)
      expect(res.body).toEqual({ ...detail, name: 'Weekend', updatedAt: expect.stringMatching(ISO) })
      expect((await t.call('GET', '/api/setups')).body[0].name).toBe('Weekend')
    })

    test('rejects an empty body, a blank name and unknown keys; a missing setup is a 404', async () => {
      const setup = await created('POST', '/api/setups', { name: 'Trip' })
      expect(errorPaths(await t.call('PATCH', `/api/setups/${setup.id}`, {}))).toEqual(['name'])
      expect(errorPaths(await t.call('PATCH', `/api/setups/${setup.id}`, { name: '' }))).toEqual(['name'])
      expect(errorPaths(await t.call('PATCH', `/api/setups/${setup.id}`, { name: 'x', items: [] }))).toEqual(['items'])
      expect((await t.call('PATCH', '/api/setups/999', { name: 'x' })).status).toBe(404)
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body.name).toBe('Trip')
    })
  })

  describe('DELETE /api/setups/:id', () => {
    test('deletes the setup (204) and its list, but keeps the items', async () => {
      const { g, setup } = await loadedSetup()
      const res = await t.call('DELETE', `/api/setups/${setup.id}`)
      expect(res.status).toBe(204)
      expect(res.body).toBeUndefined()
      expect((await t.call('GET', `/api/setups/${setup.id}`)).status).toBe(404)
      expect(await t.db.selectFrom('setup_items').selectAll().execute()).toEqual([])
      expect((await t.call('GET', `/api/items/${g.tent.id}`)).status).toBe(200)
      expect((await t.call('DELETE', `/api/setups/${setup.id}`)).status).toBe(404)
    })
  })

  describe('PUT /api/setups/:id/items', () => {
    test('replaces the whole list and returns the new detail', async () => {
      const { g, setup } = await loadedSetup()
      const res = await t.call('PUT', `/api/setups/${setup.id}/items`, {
        items: [
          { itemId: g.gas.id, classification: 'base' },
          { itemId: g.jacket.id, classification: 'consumable' },
        ],
      })
      expect(res.status).toBe(200)
      expect(res.body.items.map((i: { name: string; classification: string }) => [i.name, i.classification])).toEqual([
        ['gas', 'base'],
        ['jacket', 'consumable'],
      ])
      expect(res.body.totals).toEqual({ baseWeightGrams: 0, wornWeightGrams: 0, consumableWeightGrams: 300, totalWeightGrams: 300, totalPriceCents: 13200 })
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body).toEqual(res.body)
    })

    test('an empty list empties the setup', async () => {
      const { setup } = await loadedSetup()
      const res = await t.call('PUT', `/api/setups/${setup.id}/items`, { items: [] })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ items: [], totals: ZERO_TOTALS, byCategory: [] })
    })

    test('an unknown item id is a 400 naming it, and nothing changes', async () => {
      const { g, setup, detail } = await loadedSetup()
      const res = await t.call('PUT', `/api/setups/${setup.id}/items`, {
        items: [
          { itemId: g.tent.id, classification: 'worn' },
          { itemId: g.gas.id, classification: 'base' },
          { itemId: 4242, classification: 'base' },
        ],
      })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.details).toEqual([{ path: 'items.2.itemId', message: 'item 4242 does not exist' }])
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body).toEqual(detail)
    })

    test('a repeated item id is a 400 naming the repeat, and nothing changes', async () => {
      const { g, setup, detail } = await loadedSetup()
      const res = await t.call('PUT', `/api/setups/${setup.id}/items`, {
        items: [
          { itemId: g.tent.id, classification: 'base' },
          { itemId: g.stove.id, classification: 'base' },
          { itemId: g.tent.id, classification: 'worn' },
        ],
      })
      expect(res.status).toBe(400)
      expect(res.body.error.details).toEqual([{ path: 'items.2.itemId', message: `item ${g.tent.id} is already listed at items.0` }])
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body).toEqual(detail)
    })

    test('checks the shape of the body: classification is required, ids are positive integers', async () => {
      const { g, setup, detail } = await loadedSetup()
      const put = (body: unknown) => t.call('PUT', `/api/setups/${setup.id}/items`, body)
      const cases: [unknown, string[]][] = [
        [{}, ['items']],
        [{ items: {} }, ['items']],
        [{ items: [{ itemId: g.tent.id }] }, ['items.0.classification']],
        [{ items: [{ itemId: g.tent.id, classification: 'packed' }] }, ['items.0.classification']],
        [{ items: [{ classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: '1', classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: 0, classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: -1, classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: 1.5, classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: 99999999999, classification: 'base' }] }, ['items.0.itemId']],
        [{ items: [{ itemId: g.tent.id, classification: 'base', quantity: 2 }] }, ['items.0.quantity']],
        [{ items: [], name: 'x' }, ['name']],
      ]
      for (const [body, expected] of cases) {
        const res = await put(body)
        expect(res.status).toBe(400)
        expect(errorPaths(res)).toEqual(expected)
      }
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({ itemId: i + 1, classification: 'base' }))
      expect(errorPaths(await put({ items: tooMany }))).toEqual(['items'])
      expect((await put('not json')).status).toBe(400)
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body).toEqual(detail)
    })

    test('a missing setup is a 404', async () => {
      const { g } = await loadedSetup()
      const res = await t.call('PUT', '/api/setups/77/items', { items: [{ itemId: g.tent.id, classification: 'base' }] })
      expect(res.status).toBe(404)
      expect(res.body.error.message).toBe('setup 77 not found')
    })
  })

  describe('PATCH /api/setups/:id/items/:itemId', () => {
    test('reclassifies one item and returns the detail with new totals', async () => {
      const { g, setup } = await loadedSetup()
      const res = await t.call('PATCH', `/api/setups/${setup.id}/items/${g.tent.id}`, { classification: 'worn' })
      expect(res.status).toBe(200)
      expect(res.body.items.find((i: { id: number }) => i.id === g.tent.id).classification).toBe('worn')
      expect(res.body.totals).toEqual({
        baseWeightGrams: 165, // 80 + 85
        wornWeightGrams: 1500.5, // 1200.5 + 300
        consumableWeightGrams: 750.75,
        totalWeightGrams: 2416.25,
        totalPriceCents: 45600,
      })
      expect((await t.call('GET', `/api/setups/${setup.id}`)).body).toEqual(res.body)
    })

    test('an item that is not in the setup, or a missing setup, is a 404', async () => {
      const { g, setup } = await loadedSetup()
      const other = await created('POST', '/api/items', { name: 'spare', categoryId: 1 })
      const notIn = await t.call('PATCH', `/api/setups/${setup.id}/items/${other.id}`, { classification: 'worn' })
      expect(notIn.status).toBe(404)
      expect(notIn.body.error.message).toBe(`item ${other.id} in setup ${setup.id} not found`)
      expect((await t.call('PATCH', `/api/setups/${setup.id}/items/999`, { classification: 'worn' })).status).toBe(404)
      expect((await t.call('PATCH', `/api/setups/999/items/${g.tent.id}`, { classification: 'worn' })).status).toBe(404)
    })

    test('rejects a bad or missing classification and unknown keys', async () => {
      const { g, setup } = await loadedSetup()
      const patch = (body: unknown) => t.call('PATCH', `/api/setups/${setup.id}/items/${g.tent.id}`, body)
      expect(errorPaths(await patch({}))).toEqual(['classification'])
      expect(errorPaths(await patch({ classification: 'Base' }))).toEqual(['classification'])
      expect(errorPaths(await patch({ classification: 'base', itemId: 3 }))).toEqual(['itemId'])
    })
  })

  test('ids that are not positive integers are a 400 on every route, never a 500', async () => {
    const { g, setup } = await loadedSetup()
    for (const bad of BAD_IDS) {
      const calls: [string, string, unknown, string][] = [
        ['GET', `/api/setups/${bad}`, undefined, 'param.id'],
        ['PATCH', `/api/setups/${bad}`, { name: 'x' }, 'param.id'],
        ['DELETE', `/api/setups/${bad}`, undefined, 'param.id'],
        ['PUT', `/api/setups/${bad}/items`, { items: [] }, 'param.id'],
        ['PATCH', `/api/setups/${bad}/items/${g.tent.id}`, { classification: 'worn' }, 'param.id'],
        ['PATCH', `/api/setups/${setup.id}/items/${bad}`, { classification: 'worn' }, 'param.itemId'],
      ]
      for (const [method, path, body, param] of calls) {
        const res = await t.call(method, path, body)
        expect([method, path, res.status]).toEqual([method, path, 400])
        expect(errorPaths(res)).toEqual([param])
      }
    }
    expect((await t.call('GET', `/api/setups/${setup.id}`)).status).toBe(200)
  })
})
