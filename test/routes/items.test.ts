import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { MAX_PRICE_CENTS, MAX_QUANTITY, MAX_WEIGHT_GRAMS } from '../../src/schemas/common'
import { BAD_IDS, errorPaths, ISO, useTestApp } from '../support/app'
import { holdTransaction, serverUrl, untilLocksWait } from '../support/database'

describe('/api/items', () => {
  const t = useTestApp()
  const createItem = async (body: object) => {
    const res = await t.call('POST', '/api/items', body)
    expect(res.status).toBe(201)
    return res.body
  }
  const createCategory = async (name: string): Promise<number> => {
    const res = await t.call('POST', '/api/categories', { name })
    expect(res.status).toBe(201)
    return res.body.id
  }

  test('POST with the required fields only (201): defaults and the category name', async () => {
    const res = await t.call('POST', '/api/items', { name: 'Tent', categoryId: 1 })
    expect(res.status).toBe(201)
    expect(res.body).toEqual({
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
      createdAt: expect.stringMatching(ISO),
      updatedAt: res.body.createdAt,
    })
  })

  test('POST with every field, and GET /:id returns the same item', async () => {
    const shelter = await createCategory('Shelter')
    const input = {
      name: 'Stake',
      categoryId: shelter,
      weightGrams: 12.75,
      priceCents: 150,
      notes: 'titanium, 16 cm',
      productUrl: 'https://example.com/stake?ref=1',
      imageFilename: '4f1c.png',
      imageSourceUrl: 'http://images.example.com/stake.png',
      quantity: 8,
    }
    const created = await createItem(input)
    expect(created).toEqual({ ...input, id: 1, categoryName: 'Shelter', createdAt: expect.stringMatching(ISO), updatedAt: created.createdAt })
    expect(await t.call('GET', '/api/items/1')).toMatchObject({ status: 200, body: created })
  })

  test('POST accepts null for unknown values and the extremes of each range', async () => {
    const item = await createItem({
      name: 'x'.repeat(200),
      categoryId: 1,
      weightGrams: 0,
      priceCents: MAX_PRICE_CENTS,
      quantity: MAX_QUANTITY,
      notes: null,
      productUrl: null,
      imageFilename: null,
      imageSourceUrl: null,
    })
    expect(item).toMatchObject({ weightGrams: 0, priceCents: MAX_PRICE_CENTS, quantity: MAX_QUANTITY, notes: null })
    expect((await createItem({ name: 'Heavy', categoryId: 1, weightGrams: MAX_WEIGHT_GRAMS })).weightGrams).toBe(MAX_WEIGHT_GRAMS)
    expect((await createItem({ name: ' padded ', categoryId: 1, weightGrams: null, priceCents: null })).name).toBe(' padded ')
  })

  test('POST rejects each bad field with its path', async () => {
    const ok = { name: 'Tent', categoryId: 1 }
    const cases: [object, string[]][] = [
      [{ categoryId: 1 }, ['name']],
      [{ name: 'Tent' }, ['categoryId']],
      [{ ...ok, name: '' }, ['name']],
      [{ ...ok, name: ' \t ' }, ['name']],
      [{ ...ok, name: 'x'.repeat(201) }, ['name']],
      [{ ...ok, name: null }, ['name']],
      [{ ...ok, categoryId: 0 }, ['categoryId']],
      [{ ...ok, categoryId: '1' }, ['categoryId']],
      [{ ...ok, categoryId: 99999999999 }, ['categoryId']],
      [{ ...ok, weightGrams: -0.5 }, ['weightGrams']],
      [{ ...ok, weightGrams: '100' }, ['weightGrams']],
      [{ ...ok, priceCents: 1.5 }, ['priceCents']],
      [{ ...ok, priceCents: -1 }, ['priceCents']],
      [{ ...ok, weightGrams: 1e308 }, ['weightGrams']],
      [{ ...ok, weightGrams: MAX_WEIGHT_GRAMS + 0.001 }, ['weightGrams']],
      [{ ...ok, priceCents: MAX_PRICE_CENTS + 1 }, ['priceCents']],
      [{ ...ok, priceCents: 2_147_483_647 }, ['priceCents']],
      [{ ...ok, quantity: 0 }, ['quantity']],
      [{ ...ok, quantity: 1.5 }, ['quantity']],
      [{ ...ok, quantity: null }, ['quantity']],
      [{ ...ok, quantity: MAX_QUANTITY + 1 }, ['quantity']],
      [{ ...ok, quantity: 2_147_483_647 }, ['quantity']],
      [{ ...ok, productUrl: 'ftp://example.com/x' }, ['productUrl']],
      [{ ...ok, productUrl: 'not a url' }, ['productUrl']],
      // A URL is stored as sent or refused, never trimmed or stripped of tabs and line breaks.
      [{ ...ok, productUrl: '  https://example.com/tent  ' }, ['productUrl']],
      [{ ...ok, productUrl: 'https://exam\tple.com/te\nnt' }, ['productUrl']],
      [{ ...ok, imageSourceUrl: 'https://example.com/a.png\n' }, ['imageSourceUrl']],
      // An image's name as POST /api/images hands it out: a file name, never a path.
      [{ ...ok, imageFilename: '../../etc/passwd' }, ['imageFilename']],
      [{ ...ok, imageFilename: 'a\\b.png' }, ['imageFilename']],
      [{ ...ok, imageFilename: '.hidden.png' }, ['imageFilename']],
      [{ ...ok, imageSourceUrl: 'javascript:alert(1)' }, ['imageSourceUrl']],
      [{ ...ok, notes: 5 }, ['notes']],
      [{ ...ok, imageFilename: '' }, ['imageFilename']],
      [{ ...ok, weight: 100 }, ['weight']],
      [{ ...ok, id: 5, createdAt: '2020-01-01T00:00:00.000Z' }, ['id', 'createdAt']],
      [{ name: '', quantity: 0 }, ['name', 'categoryId', 'quantity']],
    ]
    for (const [body, expected] of cases) {
      const res = await t.call('POST', '/api/items', body)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(errorPaths(res)).toEqual(expected)
    }
    expect((await t.call('GET', '/api/items')).body).toEqual([])
  })

  test('POST with a category that does not exist is a 400 on categoryId', async () => {
    const res = await t.call('POST', '/api/items', { name: 'Tent', categoryId: 42 })
    expect(res.status).toBe(400)
    expect(res.body.error).toEqual({
      code: 'validation_failed',
      message: 'category does not exist',
      details: [{ path: 'categoryId', message: 'category does not exist' }],
    })
  })

  test('POST with malformed JSON, no body or another content type is a 400', async () => {
    expect((await t.call('POST', '/api/items', '{"name": "Tent",')).status).toBe(400)
    expect((await t.app.request('/api/items', { method: 'POST', headers: t.auth })).status).toBe(400)
    const text = await t.app.request('/api/items', { method: 'POST', headers: { ...t.auth, 'content-type': 'text/plain' }, body: 'Tent' })
    expect(text.status).toBe(400)
  })

  test('POST with a JSON body over 1 MB is a 413 and creates nothing', async () => {
    const res = await t.call('POST', '/api/items', { name: 'Tent', categoryId: 1, notes: 'x'.repeat(1024 * 1024) })
    expect(res.status).toBe(413)
    expect(res.body.error).toEqual({ code: 'payload_too_large', message: 'request body is larger than 1048576 bytes' })
    expect((await t.call('GET', '/api/items')).body).toEqual([])
  })

  test('GET lists items with category names by name (case-insensitive), then id', async () => {
    const shelter = await createCategory('Shelter')
    await createItem({ name: 'tarp', categoryId: shelter })
    await createItem({ name: 'Bivy', categoryId: 1 })
    await createItem({ name: 'Tarp', categoryId: 1 })
    await createItem({ name: 'tarp', categoryId: 1 })
    const res = await t.call('GET', '/api/items')
    expect(res.status).toBe(200)
    expect(res.body.map((i: { id: number; name: string; categoryName: string }) => [i.id, i.name, i.categoryName])).toEqual([
      [2, 'Bivy', 'Uncategorized'],
      [3, 'Tarp', 'Uncategorized'],
      [1, 'tarp', 'Shelter'],
      [4, 'tarp', 'Uncategorized'],
    ])
    expect(res.body[0]).toEqual((await t.call('GET', '/api/items/2')).body)
  })

  test('GET filters by categoryId and by q over name and notes, matching % and _ literally', async () => {
    const shelter = await createCategory('Shelter')
    await createItem({ name: 'Tent', categoryId: shelter, notes: 'Pitch with 100% care' })
    await createItem({ name: 'tent_stakes', categoryId: shelter })
    await createItem({ name: 'Tent footprint', categoryId: 1 })
    await createItem({ name: 'Stove', categoryId: 1, notes: 'not for the TENT' })
    const names = async (query: string) => {
      const res = await t.call('GET', `/api/items${query}`)
      expect(res.status).toBe(200)
      return res.body.map((i: { name: string }) => i.name)
    }
    expect(await names(`?categoryId=${shelter}`)).toEqual(['Tent', 'tent_stakes'])
    expect(await names('?q=TeNt')).toEqual(['Stove', 'Tent', 'Tent footprint', 'tent_stakes'])
    expect(await names(`?q=tent&categoryId=1`)).toEqual(['Stove', 'Tent footprint'])
    expect(await names('?q=%25')).toEqual(['Tent'])
    expect(await names('?q=t_s')).toEqual(['tent_stakes'])
    expect(await names('?q=')).toHaveLength(4)
    expect(await names('?categoryId=99')).toEqual([])
  })

  test('GET with a bad categoryId, an overlong q, a q with a NUL or percent-encoded bytes that are not UTF-8 is a 400 naming the parameter', async () => {
    for (const bad of BAD_IDS) {
      const res = await t.call('GET', `/api/items?categoryId=${bad}`)
      expect(res.status).toBe(400)
      expect(errorPaths(res)).toEqual(['query.categoryId'])
    }
    // %FF and a lone surrogate's bytes were searched for as the text "%FF", a value the client never meant.
    for (const q of ['x'.repeat(201), 'te%00nt', 'te%FFnt', '%ED%A0%80']) {
      const res = await t.call('GET', `/api/items?q=${q}`)
      expect(res.status).toBe(400)
      expect(errorPaths(res)).toEqual(['query.q'])
    }
  })

  test('GET /:id of a missing item is a 404; bad ids are 400s', async () => {
    const missing = await t.call('GET', '/api/items/5')
    expect(missing.status).toBe(404)
    expect(missing.body.error).toEqual({ code: 'not_found', message: 'item 5 not found' })
    for (const bad of BAD_IDS) {
      const res = await t.call('GET', `/api/items/${bad}`)
      expect(res.status).toBe(400)
      expect(errorPaths(res)).toEqual(['param.id'])
    }
  })

  test('PATCH changes only the given fields and moves updatedAt (200)', async () => {
    const shelter = await createCategory('Shelter')
    const item = await createItem({ name: 'Tent', categoryId: 1, weightGrams: 1500, priceCents: 20000, notes: 'old' })
    // Back-date the row so the new updatedAt is visibly later, whatever the clock resolution.
    await t.db
      .updateTable('items')
      .set({ updated_at: new Date('2020-01-01T00:00:00Z') })
      .execute()
    const res = await t.call('PATCH', `/api/items/${item.id}`, { categoryId: shelter, weightGrams: null, notes: 'new', quantity: 2 })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      ...item,
      categoryId: shelter,
      categoryName: 'Shelter',
      weightGrams: null,
      notes: 'new',
      quantity: 2,
      updatedAt: expect.stringMatching(ISO),
    })
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThan(Date.parse('2020-01-01T00:00:00Z'))
    expect((await t.call('GET', `/api/items/${item.id}`)).body).toEqual(res.body)
  })

  test('PATCH errors: bad fields, empty body, unknown key, unknown category, missing item, bad ids, malformed JSON', async () => {
    const item = await createItem({ name: 'Tent', categoryId: 1 })
    const cases: [unknown, string[]][] = [
      [{}, ['body']],
      [{ name: null }, ['name']],
      [{ name: '  ' }, ['name']],
      [{ categoryId: null }, ['categoryId']],
      [{ quantity: -3 }, ['quantity']],
      [{ quantity: MAX_QUANTITY + 1 }, ['quantity']],
      [{ priceCents: 0.1 }, ['priceCents']],
      [{ priceCents: 2_147_483_647 }, ['priceCents']],
      [{ weightGrams: 1e308 }, ['weightGrams']],
      [{ productUrl: 'mailto:me@example.com' }, ['productUrl']],
      [{ name: 'Tent', colour: 'green' }, ['colour']],
      [{ categoryId: 77 }, ['categoryId']],
    ]
    for (const [body, expected] of cases) {
      const res = await t.call('PATCH', `/api/items/${item.id}`, body)
      expect(res.status).toBe(400)
      expect(errorPaths(res)).toEqual(expected)
    }
    expect((await t.call('PATCH', `/api/items/${item.id}`, '{"name"')).status).toBe(400)
    expect((await t.call('PATCH', '/api/items/99', { name: 'x' })).status).toBe(404)
    for (const bad of BAD_IDS) expect((await t.call('PATCH', `/api/items/${bad}`, { name: 'x' })).status).toBe(400)
    expect((await t.call('GET', `/api/items/${item.id}`)).body).toEqual(item)
  })

  test('DELETE (204) removes the item from every setup; then it is a 404', async () => {
    const tent = await createItem({ name: 'Tent', categoryId: 1 })
    const stove = await createItem({ name: 'Stove', categoryId: 1 })
    const setup = await t.db.insertInto('setups').values({ name: 'Weekend' }).returning('id').executeTakeFirstOrThrow()
    await t.db
      .insertInto('setup_items')
      .values([
        { setup_id: setup.id, item_id: tent.id },
        { setup_id: setup.id, item_id: stove.id },
      ])
      .execute()
    const res = await t.call('DELETE', `/api/items/${tent.id}`)
    expect(res.status).toBe(204)
    expect(res.body).toBeUndefined()
    expect((await t.call('GET', `/api/items/${tent.id}`)).status).toBe(404)
    expect((await t.call('DELETE', `/api/items/${tent.id}`)).status).toBe(404)
    expect(await t.db.selectFrom('setup_items').select('item_id').execute()).toEqual([{ item_id: stove.id }])
    expect((await t.call('GET', '/api/items')).body.map((i: { name: string }) => i.name)).toEqual(['Stove'])
  })

  test('DELETE with bad ids is a 400', async () => {
    for (const bad of BAD_IDS) expect((await t.call('DELETE', `/api/items/${bad}`)).status).toBe(400)
  })
})

// PGlite runs one transaction at a time, so only a server shows a delete overlapping a setup's write.
describe.if(serverUrl !== undefined)('/api/items on a PostgreSQL server', () => {
  const t = useTestApp({ on: 'postgres' })

  test("deleting an item while a setup's PUT adds it: the setup's updatedAt moves past the PUT's", async () => {
    const item = (await t.call('POST', '/api/items', { name: 'Tent', categoryId: 1 })).body.id
    const setup = (await t.call('POST', '/api/setups', { name: 'Weekend' })).body.id
    // What PUT /api/setups/:id/items does, held before its commit.
    let put = new Date(0)
    const putting = await holdTransaction(t.db, async (trx) => {
      await trx.selectFrom('items').select('id').where('id', '=', item).forKeyShare().execute()
      await trx.insertInto('setup_items').values({ setup_id: setup, item_id: item, classification: 'base' }).execute()
      const touched = await trx.updateTable('setups').set({ updated_at: sql`now()` }).where('id', '=', setup).returning('updated_at').executeTakeFirstOrThrow()
      put = touched.updated_at
    })
    const deleting = t.call('DELETE', `/api/items/${item}`)
    await untilLocksWait(t.db, 1, deleting)
    await putting.end()
    expect((await deleting).status).toBe(204)

    const after = (await t.call('GET', `/api/setups/${setup}`)).body
    expect(after.items).toEqual([])
    // The delete came tens of milliseconds after the PUT's transaction began.
    expect(new Date(after.updatedAt).getTime()).toBeGreaterThan(put.getTime())
  })
})
