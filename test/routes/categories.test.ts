import { describe, expect, test } from 'bun:test'
import { BAD_IDS, errorPaths, ISO, useTestApp } from '../support/app'
import { holdTransaction, serverUrl, untilLocksWait } from '../support/database'

describe('/api/categories', () => {
  const t = useTestApp()
  const createCategory = async (body: object) => {
    const res = await t.call('POST', '/api/categories', body)
    expect(res.status).toBe(201)
    return res.body
  }
  const createItem = async (body: object) => {
    const res = await t.call('POST', '/api/items', body)
    expect(res.status).toBe(201)
    return res.body
  }

  test('GET lists the seed category with zero totals', async () => {
    const res = await t.call('GET', '/api/categories')
    expect(res.status).toBe(200)
    expect(res.body).toEqual([
      { id: 1, name: 'Uncategorized', icon: 'package', itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0, createdAt: expect.stringMatching(ISO) },
    ])
  })

  test('GET totals weight and price times quantity, unknown values as 0, ordered by name', async () => {
    const shelter = await createCategory({ name: 'Shelter', icon: 'tent' })
    const cook = await createCategory({ name: 'cook' })
    await createItem({ name: 'Tent', categoryId: shelter.id, weightGrams: 1100.25, priceCents: 29900 })
    await createItem({ name: 'Stakes', categoryId: shelter.id, weightGrams: 10, priceCents: 99, quantity: 6 }) // 60 g, 594 cents
    await createItem({ name: 'Cord', categoryId: shelter.id, quantity: 4 }) // unknown weight and price
    await createItem({ name: 'Pot', categoryId: cook.id, weightGrams: 120.5, quantity: 2 }) // 241 g, unknown price
    const res = await t.call('GET', '/api/categories')
    expect(res.status).toBe(200)
    expect(res.body.map(({ createdAt, ...rest }: { createdAt: string }) => rest)).toEqual([
      { id: cook.id, name: 'cook', icon: 'package', itemCount: 1, totalWeightGrams: 241, totalPriceCents: 0 },
      { id: shelter.id, name: 'Shelter', icon: 'tent', itemCount: 3, totalWeightGrams: 1160.25, totalPriceCents: 30494 },
      { id: 1, name: 'Uncategorized', icon: 'package', itemCount: 0, totalWeightGrams: 0, totalPriceCents: 0 },
    ])
  })

  test('POST creates a category (201) with the default icon', async () => {
    const res = await t.call('POST', '/api/categories', { name: 'Shelter' })
    expect(res.status).toBe(201)
    // A list entry, as GET /api/categories gives it: no items yet.
    expect(res.body).toEqual({
      id: 2,
      name: 'Shelter',
      icon: 'package',
      createdAt: expect.stringMatching(ISO),
      itemCount: 0,
      totalWeightGrams: 0,
      totalPriceCents: 0,
    })
    expect(await t.call('POST', '/api/categories', { name: 'Sleep', icon: 'bed' })).toMatchObject({
      status: 201,
      body: { id: 3, name: 'Sleep', icon: 'bed' },
    })
  })

  test('POST with a taken name is a 409', async () => {
    await createCategory({ name: 'Shelter' })
    const res = await t.call('POST', '/api/categories', { name: 'Shelter', icon: 'tent' })
    expect(res.status).toBe(409)
    expect(res.body.error).toEqual({ code: 'conflict', message: 'a category with this name already exists' })
  })

  test('POST rejects bad bodies with a path per field', async () => {
    const cases: [unknown, string[]][] = [
      [{}, ['name']],
      [{ name: '' }, ['name']],
      [{ name: '   ' }, ['name']],
      [{ name: 'x'.repeat(101) }, ['name']],
      [{ name: 42 }, ['name']],
      [{ name: 'Shelter', icon: '' }, ['icon']],
      [{ name: 'Shelter', icon: null }, ['icon']],
      [{ name: 'Shelter', colour: 'red' }, ['colour']],
      [[], ['body']],
    ]
    for (const [body, paths] of cases) {
      const res = await t.call('POST', '/api/categories', body)
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(errorPaths(res)).toEqual(paths)
    }
    expect((await t.call('GET', '/api/categories')).body).toHaveLength(1)
  })

  test('POST with malformed JSON or no body is a 400', async () => {
    expect((await t.call('POST', '/api/categories', '{"name": ')).status).toBe(400)
    const res = await t.app.request('/api/categories', { method: 'POST', headers: t.auth })
    expect(res.status).toBe(400)
  })

  test('PATCH changes name and icon (200)', async () => {
    const { id, createdAt } = await createCategory({ name: 'Shelter' })
    expect(await t.call('PATCH', `/api/categories/${id}`, { name: 'Shelters' })).toMatchObject({
      status: 200,
      body: { id, name: 'Shelters', icon: 'package', createdAt },
    })
    const res = await t.call('PATCH', `/api/categories/${id}`, { icon: 'tent' })
    expect(res).toMatchObject({ status: 200, body: { id, name: 'Shelters', icon: 'tent', createdAt } })
  })

  test('POST and PATCH answer the category as its list entry, with its item totals', async () => {
    const { id } = await createCategory({ name: 'Shelter' })
    await t.call('POST', '/api/items', { name: 'Tent', categoryId: id, weightGrams: 1200.5, priceCents: 34900, quantity: 2 })
    await t.call('POST', '/api/items', { name: 'Pegs', categoryId: id, weightGrams: 80 })
    const patched = await t.call('PATCH', `/api/categories/${id}`, { name: 'Shelters' })
    expect(patched.status).toBe(200)
    const listed = (await t.call('GET', '/api/categories')).body.find((c: { id: number }) => c.id === id)
    expect(listed).toMatchObject({ itemCount: 2, totalWeightGrams: 2481, totalPriceCents: 69800 })
    expect(patched.body).toEqual(listed)
    // No field changed: the same entry.
    expect((await t.call('PATCH', `/api/categories/${id}`, {})).status).toBe(400)
  })

  test('PATCH errors: empty body, unknown key, taken name, missing category, bad ids', async () => {
    const { id } = await createCategory({ name: 'Shelter' })
    const empty = await t.call('PATCH', `/api/categories/${id}`, {})
    expect(empty.status).toBe(400)
    expect(empty.body.error.details).toEqual([{ path: 'body', message: 'at least one field is required' }])
    const unknown = await t.call('PATCH', `/api/categories/${id}`, { nam: 'x' })
    expect(unknown.status).toBe(400)
    // One misspelled key is that, not also an empty body.
    expect(unknown.body.error.details).toEqual([{ path: 'nam', message: 'unknown field' }])
    expect((await t.call('PATCH', `/api/categories/${id}`, { name: ' ' })).status).toBe(400)
    expect((await t.call('PATCH', `/api/categories/${id}`, '{')).status).toBe(400)
    expect((await t.call('PATCH', `/api/categories/${id}`, { name: 'Uncategorized' })).status).toBe(409)
    const missing = await t.call('PATCH', '/api/categories/99', { name: 'x' })
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('not_found')
    for (const bad of BAD_IDS) {
      const res = await t.call('PATCH', `/api/categories/${bad}`, { name: 'x' })
      expect(res.status).toBe(400)
      expect(res.body.error.details[0].path).toBe('param.id')
    }
  })

  test('DELETE (204) moves its items to Uncategorized', async () => {
    const { id } = await createCategory({ name: 'Shelter' })
    const tent = await createItem({ name: 'Tent', categoryId: id, weightGrams: 1000, quantity: 2 })
    const res = await t.call('DELETE', `/api/categories/${id}`)
    expect(res.status).toBe(204)
    expect(res.body).toBeUndefined()
    expect((await t.call('GET', `/api/items/${tent.id}`)).body).toMatchObject({ categoryId: 1, categoryName: 'Uncategorized' })
    expect((await t.call('GET', '/api/categories')).body).toEqual([
      { id: 1, name: 'Uncategorized', icon: 'package', itemCount: 1, totalWeightGrams: 2000, totalPriceCents: 0, createdAt: expect.stringMatching(ISO) },
    ])
  })

  test('DELETE errors: Uncategorized is a 409, a missing category a 404, bad ids a 400', async () => {
    const uncategorized = await t.call('DELETE', '/api/categories/1')
    expect(uncategorized.status).toBe(409)
    expect(uncategorized.body.error).toEqual({ code: 'conflict', message: 'the Uncategorized category cannot be deleted' })
    expect((await t.call('DELETE', '/api/categories/99')).status).toBe(404)
    for (const bad of BAD_IDS) expect((await t.call('DELETE', `/api/categories/${bad}`)).status).toBe(400)
    expect((await t.call('GET', '/api/categories')).body).toHaveLength(1)
  })
})

// PGlite runs one transaction at a time, so only a server shows a delete overlapping a write.
describe.if(serverUrl !== undefined)('/api/categories on a PostgreSQL server', () => {
  const t = useTestApp({ on: 'postgres' })

  test('deleting a category while an item is being added to it moves that item too', async () => {
    const id = (await t.call('POST', '/api/categories', { name: 'Shelter' })).body.id
    const adding = await holdTransaction(t.db, (trx) => trx.insertInto('items').values({ name: 'Tent', category_id: id }).execute())
    const deleting = t.call('DELETE', `/api/categories/${id}`)
    await untilLocksWait(t.db, 1, deleting)
    await adding.end()
    expect((await deleting).status).toBe(204)
    expect((await t.call('GET', '/api/items')).body.map((i: { name: string; categoryId: number }) => [i.name, i.categoryId])).toEqual([['Tent', 1]])
  })
})
