import { describe, expect, test } from 'bun:test'
import { repositoriesFor } from '../../src/repositories'
import { MAX_PRICE_CENTS, MAX_WEIGHT_GRAMS } from '../../src/schemas/common'
import { BAD_IDS, errorPaths, useTestApp } from '../support/app'
import { holdTransaction, serverUrl, untilLocksWait } from '../support/database'

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)

describe('/api/threads', () => {
  const t = useTestApp()

  async function newCategory(name: string): Promise<number> {
    const res = await t.call('POST', '/api/categories', { name })
    expect(res.status).toBe(201)
    return res.body.id
  }

  async function newThread(name = 'Tent', categoryId = 1): Promise<number> {
    const res = await t.call('POST', '/api/threads', { name, categoryId })
    expect(res.status).toBe(201)
    return res.body.id
  }

  async function newCandidate(threadId: number, body: Record<string, unknown> = {}): Promise<number> {
    const res = await t.call('POST', `/api/threads/${threadId}/candidates`, { name: 'Candidate', ...body })
    expect(res.status).toBe(201)
    return res.body.id
  }

  function expectValidation(res: { status: number; body: any }, paths: string[]) {
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(errorPaths(res)).toEqual(paths)
  }

  function expectError(res: { status: number; body: any }, status: number, code: string) {
    expect(res.status).toBe(status)
    expect(res.body.error.code).toBe(code)
  }

  describe('threads', () => {
    test('POST creates a thread: 201 with the thread and no candidates', async () => {
      const res = await t.call('POST', '/api/threads', { name: 'New tent', categoryId: 1 })
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        id: 1,
        name: 'New tent',
        status: 'active',
        categoryId: 1,
        resolvedCandidateId: null,
        createdAt: iso,
        updatedAt: iso,
        candidates: [],
      })
    })

    test('POST rejects an unknown category, missing or bad fields and unknown keys', async () => {
      const unknown = await t.call('POST', '/api/threads', { name: 'x', categoryId: 42 })
      expectValidation(unknown, ['categoryId'])
      expectValidation(await t.call('POST', '/api/threads', { categoryId: 1 }), ['name'])
      expectValidation(await t.call('POST', '/api/threads', { name: '   ', categoryId: 1 }), ['name'])
      expectValidation(await t.call('POST', '/api/threads', { name: 'x', categoryId: '1' }), ['categoryId'])
      expectValidation(await t.call('POST', '/api/threads', { name: 'x', categoryId: 1, colour: 'red' }), ['colour'])
      expectError(await t.call('POST', '/api/threads', '{not json'), 400, 'validation_failed')
      expect((await t.call('GET', '/api/threads')).body).toEqual([])
    })

    test('GET lists newest first with candidate counts; status filters; a bad status is a 400', async () => {
      const a = await newThread('A')
      const b = await newThread('B')
      const c = await newThread('C')
      await newCandidate(a)
      await newCandidate(a)
      const resolvedWith = await newCandidate(c)
      expect((await t.call('POST', `/api/threads/${c}/resolve`, { candidateId: resolvedWith })).status).toBe(200)

      const all = await t.call('GET', '/api/threads')
      expect(all.status).toBe(200)
      expect(all.body).toEqual([
        { id: c, name: 'C', status: 'resolved', categoryId: 1, candidateCount: 1, resolvedCandidateId: resolvedWith, createdAt: iso, updatedAt: iso },
        { id: b, name: 'B', status: 'active', categoryId: 1, candidateCount: 0, resolvedCandidateId: null, createdAt: iso, updatedAt: iso },
        { id: a, name: 'A', status: 'active', categoryId: 1, candidateCount: 2, resolvedCandidateId: null, createdAt: iso, updatedAt: iso },
      ])
      expect((await t.call('GET', '/api/threads?status=active')).body.map((x: { id: number }) => x.id)).toEqual([b, a])
      expect((await t.call('GET', '/api/threads?status=resolved')).body.map((x: { id: number }) => x.id)).toEqual([c])
      expectValidation(await t.call('GET', '/api/threads?status=open'), ['query.status'])
    })

    test('GET /:id returns the thread with candidates by sortOrder, then id', async () => {
      const id = await newThread()
      await newCandidate(id, { name: 'second', sortOrder: 2 })
      await newCandidate(id, { name: 'first', sortOrder: 0.5 })
      await newCandidate(id, { name: 'third' }) // after the max: 3
      const res = await t.call('GET', `/api/threads/${id}`)
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id, name: 'Tent', status: 'active', categoryId: 1, resolvedCandidateId: null })
      expect(res.body.candidates.map((c: { id: number; name: string; sortOrder: number }) => [c.id, c.name, c.sortOrder])).toEqual([
        [2, 'first', 0.5],
        [1, 'second', 2],
        [3, 'third', 3],
      ])
      expectError(await t.call('GET', '/api/threads/12345'), 404, 'not_found')
    })

    test('PATCH renames and moves a thread; 400 for empty, unknown keys and unknown category; 404 if missing', async () => {
      const shelter = await newCategory('Shelter')
      const id = await newThread()
      await newCandidate(id)
      const renamed = await t.call('PATCH', `/api/threads/${id}`, { name: 'Tarp', categoryId: shelter })
      expect(renamed.status).toBe(200)
      expect(renamed.body).toMatchObject({ id, name: 'Tarp', categoryId: shelter, status: 'active' })
      expect(renamed.body.candidates).toHaveLength(1)
      // The candidates keep their own category.
      expect(renamed.body.candidates[0].categoryId).toBe(1)

      expectValidation(await t.call('PATCH', `/api/threads/${id}`, {}), ['body'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}`, { status: 'resolved' }), ['status'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}`, { categoryId: 999 }), ['categoryId'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}`, { name: '' }), ['name'])
      expectError(await t.call('PATCH', '/api/threads/777', { name: 'x' }), 404, 'not_found')
      expect((await t.call('GET', `/api/threads/${id}`)).body).toMatchObject({ name: 'Tarp', categoryId: shelter })
    })

    test('DELETE removes the thread and its candidates: 204, then 404', async () => {
      const id = await newThread()
      const keep = await newThread('Keep')
      await newCandidate(id)
      await newCandidate(keep)
      const res = await t.call('DELETE', `/api/threads/${id}`)
      expect(res.status).toBe(204)
      expect(res.body).toBeUndefined()
      expectError(await t.call('GET', `/api/threads/${id}`), 404, 'not_found')
      expectError(await t.call('DELETE', `/api/threads/${id}`), 404, 'not_found')
      expect(await t.db.selectFrom('thread_candidates').select('thread_id').execute()).toEqual([{ thread_id: keep }])
    })

    test('bad ids in the path are 400 or 404, never 500', async () => {
      const id = await newThread()
      const candidate = await newCandidate(id)
      for (const bad of BAD_IDS) {
        const calls: [string, string, unknown?][] = [
          ['GET', `/api/threads/${bad}`],
          ['PATCH', `/api/threads/${bad}`, { name: 'x' }],
          ['DELETE', `/api/threads/${bad}`],
          ['POST', `/api/threads/${bad}/candidates`, { name: 'x' }],
          ['PATCH', `/api/threads/${bad}/candidates/${candidate}`, { name: 'x' }],
          ['PATCH', `/api/threads/${id}/candidates/${bad}`, { name: 'x' }],
          ['DELETE', `/api/threads/${id}/candidates/${bad}`],
          ['PUT', `/api/threads/${bad}/candidates/order`, { candidateIds: [candidate] }],
          ['POST', `/api/threads/${bad}/resolve`, { candidateId: candidate }],
          ['POST', `/api/threads/${bad}/unresolve`],
        ]
        for (const [method, path, body] of calls) {
          const res = await t.call(method, path, body)
          expect([400, 404]).toContain(res.status)
          expect(['validation_failed', 'not_found']).toContain(res.body.error.code)
        }
      }
      // Nothing changed on the way.
      expect((await t.call('GET', `/api/threads/${id}`)).body).toMatchObject({ name: 'Tent', candidates: [{ id: candidate, name: 'Candidate' }] })
    })
  })

  describe('candidates', () => {
    test('POST creates a candidate with defaults: 201', async () => {
      const shelter = await newCategory('Shelter')
      const id = await newThread('Tent', shelter)
      const res = await t.call('POST', `/api/threads/${id}/candidates`, { name: 'Duplex' })
      expect(res.status).toBe(201)
      expect(res.body).toEqual({
        id: 1,
        threadId: id,
        name: 'Duplex',
        weightGrams: null,
        priceCents: null,
        categoryId: shelter,
        notes: null,
        productUrl: null,
        imageFilename: null,
        imageSourceUrl: null,
        status: 'researching',
        pros: null,
        cons: null,
        sortOrder: 1,
        createdAt: iso,
        updatedAt: iso,
      })
    })

    test('POST stores every field as given', async () => {
      const id = await newThread()
      const body = {
        name: 'Duplex',
        weightGrams: 539.5,
        priceCents: 61900,
        categoryId: 1,
        notes: 'DCF',
        productUrl: 'https://zpacks.com/duplex',
        imageFilename: 'abc.webp',
        imageSourceUrl: 'http://zpacks.com/duplex.webp',
        status: 'ordered',
        pros: 'light',
        cons: 'pricey',
        sortOrder: -2.25,
      }
      const res = await t.call('POST', `/api/threads/${id}/candidates`, body)
      expect(res.status).toBe(201)
      expect(res.body).toEqual({ ...body, id: 1, threadId: id, createdAt: iso, updatedAt: iso })
      expect((await t.call('GET', `/api/threads/${id}`)).body.candidates).toEqual([res.body])
    })

    test('POST validates each field by path, rejects quantity and unknown keys', async () => {
      const id = await newThread()
      const post = (body: unknown) => t.call('POST', `/api/threads/${id}/candidates`, body)
      expectValidation(await post({}), ['name'])
      expectValidation(await post({ name: 'x', weightGrams: -1 }), ['weightGrams'])
      expectValidation(await post({ name: 'x', priceCents: 1.5 }), ['priceCents'])
      expectValidation(await post({ name: 'x', weightGrams: 1e308 }), ['weightGrams'])
      expectValidation(await post({ name: 'x', priceCents: MAX_PRICE_CENTS + 1 }), ['priceCents'])
      expectValidation(await post({ name: 'x', productUrl: 'ftp://example.com' }), ['productUrl'])
      expectValidation(await post({ name: 'x', status: 'lost' }), ['status'])
      expectValidation(await post({ name: 'x', sortOrder: 'first' }), ['sortOrder'])
      expectValidation(await post({ name: 'x', sortOrder: null }), ['sortOrder'])
      expectValidation(await post({ name: 'x', categoryId: 0 }), ['categoryId'])
      expectValidation(await post({ name: 'x', quantity: 2 }), ['quantity'])
      expectValidation(await post({ name: 'x', threadId: 2 }), ['threadId'])
      expectValidation(await post({ name: 'x', categoryId: 99 }), ['categoryId'])
      expectError(await t.call('POST', '/api/threads/99/candidates', { name: 'x' }), 404, 'not_found')
      expect((await t.call('GET', `/api/threads/${id}`)).body.candidates).toEqual([])
    })

    test('PATCH changes some fields; null clears; a candidate of another thread is a 404', async () => {
      const id = await newThread()
      const other = await newThread('Other')
      const candidate = await newCandidate(id, { notes: 'n', weightGrams: 100 })
      const res = await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, {
        name: 'Renamed',
        notes: null,
        status: 'arrived',
        pros: 'warm',
        sortOrder: 10,
      })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id: candidate, name: 'Renamed', notes: null, weightGrams: 100, status: 'arrived', pros: 'warm', sortOrder: 10 })

      expectError(await t.call('PATCH', `/api/threads/${other}/candidates/${candidate}`, { name: 'x' }), 404, 'not_found')
      expectError(await t.call('PATCH', `/api/threads/${id}/candidates/999`, { name: 'x' }), 404, 'not_found')
      expectValidation(await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, {}), ['body'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, { name: 'x', quantity: 1 }), ['quantity'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, { priceCents: -1 }), ['priceCents'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, { weightGrams: MAX_WEIGHT_GRAMS + 1 }), ['weightGrams'])
      expectValidation(await t.call('PATCH', `/api/threads/${id}/candidates/${candidate}`, { categoryId: 50 }), ['categoryId'])
      expect((await t.call('GET', `/api/threads/${id}`)).body.candidates[0]).toMatchObject({ name: 'Renamed', priceCents: null })
    })

    test('DELETE removes a candidate: 204; one of another thread is a 404', async () => {
      const id = await newThread()
      const other = await newThread('Other')
      const candidate = await newCandidate(id)
      expectError(await t.call('DELETE', `/api/threads/${other}/candidates/${candidate}`), 404, 'not_found')
      const res = await t.call('DELETE', `/api/threads/${id}/candidates/${candidate}`)
      expect(res.status).toBe(204)
      expect((await t.call('GET', `/api/threads/${id}`)).body.candidates).toEqual([])
      expectError(await t.call('DELETE', `/api/threads/${id}/candidates/${candidate}`), 404, 'not_found')
    })
  })

  describe('PUT /:id/candidates/order', () => {
    test('orders the candidates and answers with the thread', async () => {
      const id = await newThread()
      const [a, b, c] = [await newCandidate(id, { name: 'a' }), await newCandidate(id, { name: 'b' }), await newCandidate(id, { name: 'c' })]
      const res = await t.call('PUT', `/api/threads/${id}/candidates/order`, { candidateIds: [c, a, b] })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id, name: 'Tent' })
      expect(res.body.candidates.map((x: { id: number; sortOrder: number }) => [x.id, x.sortOrder])).toEqual([
        [c, 1],
        [a, 2],
        [b, 3],
      ])
      // A new candidate goes after them.
      expect((await t.call('POST', `/api/threads/${id}/candidates`, { name: 'd' })).body.sortOrder).toBe(4)
    })

    test('the list must be exactly the thread’s candidates; nothing changes otherwise', async () => {
      const id = await newThread()
      const [a, b] = [await newCandidate(id, { name: 'a' }), await newCandidate(id, { name: 'b' })]
      const foreign = await newCandidate(await newThread('Other'))
      const put = (candidateIds: unknown) => t.call('PUT', `/api/threads/${id}/candidates/order`, { candidateIds })
      for (const ids of [[a], [a, b, a], [a, a], [a, b, foreign], [b, foreign], [], [a, b, 4242]]) {
        expectValidation(await put(ids), ['candidateIds'])
      }
      expectValidation(await put([a, 'b']), ['candidateIds.1'])
      expectValidation(await put([a, 0]), ['candidateIds.1'])
      expectValidation(await put(null), ['candidateIds'])
      expectValidation(await t.call('PUT', `/api/threads/${id}/candidates/order`, { candidateIds: [a, b], extra: 1 }), ['extra'])
      expectError(await t.call('PUT', '/api/threads/999/candidates/order', { candidateIds: [a, b] }), 404, 'not_found')
      expect((await t.call('GET', `/api/threads/${id}`)).body.candidates.map((x: { id: number; sortOrder: number }) => [x.id, x.sortOrder])).toEqual([
        [a, 1],
        [b, 2],
      ])
    })

    test('an empty list orders a thread without candidates', async () => {
      const id = await newThread()
      const res = await t.call('PUT', `/api/threads/${id}/candidates/order`, { candidateIds: [] })
      expect(res.status).toBe(200)
      expect(res.body.candidates).toEqual([])
    })
  })

  describe('resolve and unresolve', () => {
    test('resolve creates an item from the candidate and resolves the thread', async () => {
      const shelter = await newCategory('Shelter')
      const id = await newThread('Tent', 1)
      await newCandidate(id, { name: 'Other' })
      const candidate = await newCandidate(id, {
        name: 'Duplex',
        weightGrams: 539.5,
        priceCents: 61900,
        categoryId: shelter,
        notes: 'DCF',
        productUrl: 'https://zpacks.com/duplex',
        imageFilename: 'abc.webp',
        imageSourceUrl: 'https://zpacks.com/duplex.webp',
        status: 'arrived',
        pros: 'light',
        cons: 'pricey',
      })
      const res = await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: candidate })
      expect(res.status).toBe(200)
      expect(res.body.item).toEqual({
        id: 1,
        name: 'Duplex',
        weightGrams: 539.5,
        priceCents: 61900,
        categoryId: shelter,
        categoryName: 'Shelter',
        notes: 'DCF',
        productUrl: 'https://zpacks.com/duplex',
        imageFilename: 'abc.webp',
        imageSourceUrl: 'https://zpacks.com/duplex.webp',
        quantity: 1,
        createdAt: iso,
        updatedAt: iso,
      })
      expect(res.body.thread).toMatchObject({ id, status: 'resolved', resolvedCandidateId: candidate })
      expect(res.body.thread.candidates).toHaveLength(2)
      expect((await t.call('GET', '/api/items/1')).body).toEqual(res.body.item)
      expect((await t.call('GET', `/api/threads/${id}`)).body).toEqual(res.body.thread)
    })

    test('resolving a resolved thread is a 409 and creates no second item', async () => {
      const id = await newThread()
      const candidate = await newCandidate(id)
      expect((await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: candidate })).status).toBe(200)
      expectError(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: candidate }), 409, 'conflict')
      expect((await t.call('GET', '/api/items')).body).toHaveLength(1)
    })

    test('a candidate of another thread or an unknown one is a 400 on candidateId; a missing thread is a 404', async () => {
      const id = await newThread()
      await newCandidate(id)
      const foreign = await newCandidate(await newThread('Other'))
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: foreign }), ['candidateId'])
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: 999 }), ['candidateId'])
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: 'x' }), ['candidateId'])
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: 99999999999 }), ['candidateId'])
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, {}), ['candidateId'])
      expectValidation(await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: foreign, quantity: 2 }), ['quantity'])
      expectError(await t.call('POST', '/api/threads/999/resolve', { candidateId: foreign }), 404, 'not_found')
      expect((await t.call('GET', `/api/threads/${id}`)).body).toMatchObject({ status: 'active', resolvedCandidateId: null })
      expect((await t.call('GET', '/api/items')).body).toEqual([])
    })

    test('the candidate a thread was resolved with cannot be deleted (409) until the thread is unresolved; the others can', async () => {
      const id = await newThread()
      const chosen = await newCandidate(id, { name: 'Duplex' })
      const other = await newCandidate(id, { name: 'Solo' })
      await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: chosen })
      const refused = await t.call('DELETE', `/api/threads/${id}/candidates/${chosen}`)
      expectError(refused, 409, 'conflict')
      expect(refused.body.error.message).toBe(`candidate ${chosen} is the one thread ${id} was resolved with: unresolve the thread before deleting it`)
      expect((await t.call('GET', `/api/threads/${id}`)).body).toMatchObject({ status: 'resolved', resolvedCandidateId: chosen })
      expect((await t.call('DELETE', `/api/threads/${id}/candidates/${other}`)).status).toBe(204)
      await t.call('POST', `/api/threads/${id}/unresolve`)
      expect((await t.call('DELETE', `/api/threads/${id}/candidates/${chosen}`)).status).toBe(204)
      expectError(await t.call('DELETE', `/api/threads/999/candidates/${chosen}`), 404, 'not_found')
    })

    test('unresolve makes the thread active again and keeps the item; an active thread is a 409', async () => {
      const id = await newThread()
      const candidate = await newCandidate(id, { name: 'Duplex' })
      expectError(await t.call('POST', `/api/threads/${id}/unresolve`), 409, 'conflict')
      await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: candidate })

      const res = await t.call('POST', `/api/threads/${id}/unresolve`)
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id, status: 'active', resolvedCandidateId: null })
      expect(res.body.candidates.map((c: { id: number }) => c.id)).toEqual([candidate])
      expect((await t.call('GET', '/api/items')).body.map((i: { name: string }) => i.name)).toEqual(['Duplex'])
      expectError(await t.call('POST', `/api/threads/${id}/unresolve`), 409, 'conflict')
      expectError(await t.call('POST', '/api/threads/999/unresolve'), 404, 'not_found')

      // It can be resolved again, which buys a second item.
      expect((await t.call('POST', `/api/threads/${id}/resolve`, { candidateId: candidate })).status).toBe(200)
      expect((await t.call('GET', '/api/items')).body).toHaveLength(2)
    })
  })
})

// PGlite runs one transaction at a time, so only a server shows whether the thread's row lock holds.
describe.if(serverUrl !== undefined)('/api/threads on a PostgreSQL server', () => {
  const t = useTestApp({ on: 'postgres' })

  test('concurrent resolves create exactly one item', async () => {
    const id = (await t.call('POST', '/api/threads', { name: 'Tent', categoryId: 1 })).body.id
    const candidates = []
    for (const name of ['first', 'second', 'third']) candidates.push((await t.call('POST', `/api/threads/${id}/candidates`, { name })).body.id)
    const results = await Promise.all(candidates.map((candidateId) => t.call('POST', `/api/threads/${id}/resolve`, { candidateId })))
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409])
    const winner = results.find((r) => r.status === 200)!
    const items = (await t.call('GET', '/api/items')).body
    expect(items).toHaveLength(1)
    expect(items[0].name).toBe(winner.body.item.name)
    expect((await t.call('GET', `/api/threads/${id}`)).body.resolvedCandidateId).toBe(winner.body.thread.resolvedCandidateId)
  })

  test('resolves wait for a transaction that is resolving the thread, then refuse', async () => {
    const id = (await t.call('POST', '/api/threads', { name: 'Tent', categoryId: 1 })).body.id
    const candidateId = (await t.call('POST', `/api/threads/${id}/candidates`, { name: 'first' })).body.id
    const updated = Promise.withResolvers<void>()
    const commit = Promise.withResolvers<void>()
    const resolving = t.db.transaction().execute(async (trx) => {
      await trx.updateTable('threads').set({ status: 'resolved', resolved_candidate_id: candidateId }).where('id', '=', id).execute()
      updated.resolve()
      await commit.promise
    })
    await updated.promise
    const resolves = Promise.all([1, 2].map(() => t.call('POST', `/api/threads/${id}/resolve`, { candidateId })))
    await untilLocksWait(t.db, 2, resolves)
    commit.resolve()
    await resolving
    expect((await resolves).map((r) => r.status)).toEqual([409, 409])
    expect((await t.call('GET', '/api/items')).body).toEqual([])
  })

  test('candidates added at once get sort orders one after the other', async () => {
    const id = (await t.call('POST', '/api/threads', { name: 'Tent', categoryId: 1 })).body.id
    // Another request's candidate, added and not yet committed.
    const adding = await holdTransaction(t.db, (trx) => repositoriesFor(trx).threads.addCandidate(id, { name: 'first' }))
    const second = t.call('POST', `/api/threads/${id}/candidates`, { name: 'second' })
    await untilLocksWait(t.db, 1, second)
    await adding.end()
    expect((await second).status).toBe(201)
    const candidates = (await t.call('GET', `/api/threads/${id}`)).body.candidates
    expect(candidates.map((c: { name: string; sortOrder: number }) => [c.name, c.sortOrder])).toEqual([
      ['first', 1],
      ['second', 2],
    ])
  })
})
