import { describe, expect, test } from 'bun:test'
import type { CandidateStatus, NewCandidate, ThreadStatus } from '../../src/domain/thread'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { KyselyThreadRepository } from '../../src/repositories/thread-repository'
import { TransactionRequiredError } from '../../src/repositories/transaction'
import { inTransactionOf, useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'
import { anyTimestamp } from '../support/timestamp'

describe('ThreadRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyThreadRepository(t.db)
  const inTransaction = inTransactionOf(
    () => t.db,
    (trx) => new KyselyThreadRepository(trx),
  )

  async function addCategory(name: string): Promise<number> {
    const row = await t.db.insertInto('categories').values({ name }).returning('id').executeTakeFirstOrThrow()
    return row.id
  }

  describe('threads', () => {
    test('create returns the new thread, active and unresolved', async () => {
      const before = Date.now()
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      expect(thread).toEqual({
        id: 1,
        name: 'Tent',
        status: 'active',
        categoryId: 1,
        resolvedCandidateId: null,
        createdAt: anyTimestamp(),
        updatedAt: anyTimestamp(),
      })
      expect(Date.parse(thread.createdAt)).toBeGreaterThanOrEqual(before - 5000)
    })

    test('create with an unknown category is a ValidationError on categoryId', async () => {
      const error = await rejection(repo().create({ name: 'Tent', categoryId: 42 }))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details).toEqual([{ path: 'categoryId', message: 'category does not exist' }])
    })

    test('list is newest first (id breaks ties) with candidate counts, filtered by status', async () => {
      const at = (s: string) => new Date(s)
      await t.db
        .insertInto('threads')
        .values([
          { name: 'old', category_id: 1, created_at: at('2026-01-01T00:00:00Z') },
          { name: 'new', category_id: 1, created_at: at('2026-03-01T00:00:00Z') },
          { name: 'tie', category_id: 1, created_at: at('2026-03-01T00:00:00Z'), status: 'resolved' },
        ])
        .execute()
      await repo().addCandidate(1, { name: 'a' })
      await repo().addCandidate(1, { name: 'b' })
      await repo().addCandidate(3, { name: 'c' })

      const all = await repo().list()
      expect(all.map((x) => [x.id, x.name, x.status, x.candidateCount])).toEqual([
        [3, 'tie', 'resolved', 1],
        [2, 'new', 'active', 0],
        [1, 'old', 'active', 2],
      ])
      expect(all[2]).toEqual({
        id: 1,
        name: 'old',
        status: 'active',
        categoryId: 1,
        resolvedCandidateId: null,
        candidateCount: 2,
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: anyTimestamp(),
      })
      expect((await repo().list({ status: 'active' })).map((x) => x.id)).toEqual([2, 1])
      expect((await repo().list({ status: 'resolved' })).map((x) => x.id)).toEqual([3])
    })

    test('list of no threads is empty', async () => {
      expect(await repo().list()).toEqual([])
    })

    test('findById returns candidates by sortOrder then id, or undefined', async () => {
      const thread = await repo().create({ name: 'Stove', categoryId: 1 })
      await repo().addCandidate(thread.id, { name: 'late', sortOrder: 5 })
      await repo().addCandidate(thread.id, { name: 'early', sortOrder: -1.5 })
      await repo().addCandidate(thread.id, { name: 'tie', sortOrder: 5 })
      const found = await repo().findById(thread.id)
      expect(found?.candidates.map((c) => [c.id, c.name, c.sortOrder])).toEqual([
        [2, 'early', -1.5],
        [1, 'late', 5],
        [3, 'tie', 5],
      ])
      expect(found?.candidates[0]?.createdAt).toEqual(anyTimestamp())
      expect(found?.name).toBe('Stove')
      expect(await repo().findById(999)).toBeUndefined()
    })

    test('findById of a thread without candidates has an empty list', async () => {
      const thread = await repo().create({ name: 'Stove', categoryId: 1 })
      expect(await repo().findById(thread.id)).toEqual({ ...thread, candidates: [] })
    })

    test('update changes the given fields and updatedAt', async () => {
      const cat = await addCategory('Shelter')
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const past = new Date('2020-01-01T00:00:00Z')
      await t.db.updateTable('threads').set({ created_at: past, updated_at: past }).execute()
      const renamed = await repo().update(thread.id, { name: 'Tarp' })
      expect(renamed).toMatchObject({ name: 'Tarp', categoryId: 1, createdAt: past.toISOString() })
      expect(Date.parse(renamed.updatedAt)).toBeGreaterThan(past.getTime())
      expect(await repo().update(thread.id, { categoryId: cat })).toMatchObject({ name: 'Tarp', categoryId: cat })
    })

    test('update of a missing thread is NotFoundError; unknown category is a ValidationError', async () => {
      expect(await rejection(repo().update(7, { name: 'x' }))).toBeInstanceOf(NotFoundError)
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const error = await rejection(repo().update(thread.id, { categoryId: 42 }))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details[0]?.path).toBe('categoryId')
    })

    test('delete removes the thread and its candidates; a missing thread is NotFoundError', async () => {
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const other = await repo().create({ name: 'Stove', categoryId: 1 })
      await repo().addCandidate(thread.id, { name: 'a' })
      await repo().addCandidate(other.id, { name: 'b' })
      await repo().delete(thread.id)
      expect(await repo().findById(thread.id)).toBeUndefined()
      expect(await t.db.selectFrom('thread_candidates').select('name').execute()).toEqual([{ name: 'b' }])
      expect(await rejection(repo().delete(thread.id))).toBeInstanceOf(NotFoundError)
    })

    test('lockById returns the thread, or NotFoundError; outside a transaction it refuses to run', async () => {
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      expect(await inTransaction((threads) => threads.lockById(thread.id))).toEqual(thread)
      expect(await rejection(inTransaction((threads) => threads.lockById(2)))).toBeInstanceOf(NotFoundError)
      expect(await rejection(repo().lockById(thread.id))).toBeInstanceOf(TransactionRequiredError)
    })

    test('setResolution sets status and candidate; a missing thread or candidate and a bad status are errors', async () => {
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const candidate = await repo().addCandidate(thread.id, { name: 'a' })
      expect(await repo().setResolution(thread.id, { status: 'resolved', resolvedCandidateId: candidate.id })).toMatchObject({
        status: 'resolved',
        resolvedCandidateId: candidate.id,
      })
      expect(await repo().setResolution(thread.id, { status: 'active', resolvedCandidateId: null })).toMatchObject({
        status: 'active',
        resolvedCandidateId: null,
      })
      expect(await rejection(repo().setResolution(9, { status: 'active', resolvedCandidateId: null }))).toBeInstanceOf(NotFoundError)
      const badCandidate = await rejection(repo().setResolution(thread.id, { status: 'resolved', resolvedCandidateId: 99 }))
      expect(badCandidate).toBeInstanceOf(ConflictError)
      expect((badCandidate as ConflictError).constraint).toBe('threads_resolved_candidate_id_fkey')
      const badStatus = await rejection(repo().setResolution(thread.id, { status: 'done' as ThreadStatus, resolvedCandidateId: null }))
      expect(badStatus).toBeInstanceOf(ValidationError)
      expect((badStatus as ValidationError).details[0]?.path).toBe('threads_status_check')
    })

    test('reassignCategory moves threads and candidates of one category only', async () => {
      const from = await addCategory('Old')
      const keep = await addCategory('Keep')
      const moved = await repo().create({ name: 'moved', categoryId: from })
      const kept = await repo().create({ name: 'kept', categoryId: keep })
      await repo().addCandidate(moved.id, { name: 'c1' }) // inherits `from`
      await repo().addCandidate(kept.id, { name: 'c2', categoryId: from })
      await repo().addCandidate(kept.id, { name: 'c3' }) // inherits `keep`

      expect(await rejection(repo().reassignCategory(from, 1))).toBeInstanceOf(TransactionRequiredError)
      await inTransaction((threads) => threads.reassignCategory(from, 1))

      expect(await t.db.selectFrom('threads').select(['name', 'category_id']).orderBy('id').execute()).toEqual([
        { name: 'moved', category_id: 1 },
        { name: 'kept', category_id: keep },
      ])
      expect(await t.db.selectFrom('thread_candidates').select(['name', 'category_id']).orderBy('id').execute()).toEqual([
        { name: 'c1', category_id: 1 },
        { name: 'c2', category_id: 1 },
        { name: 'c3', category_id: keep },
      ])
    })

    test('reassignCategory to a missing category is a ConflictError and moves nothing', async () => {
      const from = await addCategory('Old')
      await repo().create({ name: 'x', categoryId: from })
      const error = await rejection(inTransaction((threads) => threads.reassignCategory(from, 77)))
      expect(error).toBeInstanceOf(ConflictError)
      expect((error as ConflictError).constraint).toBe('threads_category_id_fkey')
      expect(await t.db.selectFrom('threads').select('category_id').execute()).toEqual([{ category_id: from }])
    })
  })

  describe('candidates', () => {
    test('addCandidate defaults: thread category, researching, sortOrder after the max', async () => {
      const cat = await addCategory('Shelter')
      const thread = await repo().create({ name: 'Tent', categoryId: cat })
      const first = await repo().addCandidate(thread.id, { name: 'Duplex' })
      expect(first).toEqual({
        id: 1,
        threadId: thread.id,
        name: 'Duplex',
        weightGrams: null,
        priceCents: null,
        categoryId: cat,
        notes: null,
        productUrl: null,
        imageFilename: null,
        imageSourceUrl: null,
        status: 'researching',
        pros: null,
        cons: null,
        sortOrder: 1,
        createdAt: anyTimestamp(),
        updatedAt: anyTimestamp(),
      })
      await repo().addCandidate(thread.id, { name: 'Explicit', sortOrder: 7.5 })
      expect((await repo().addCandidate(thread.id, { name: 'Next' })).sortOrder).toBe(8.5)
      // Another thread's candidates do not count.
      const other = await repo().create({ name: 'Stove', categoryId: 1 })
      expect((await repo().addCandidate(other.id, { name: 'Pocket' })).sortOrder).toBe(1)
    })

    test('addCandidate stores every field', async () => {
      const cat = await addCategory('Shelter')
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const fields = {
        name: 'Duplex',
        weightGrams: 539.5,
        priceCents: 61900,
        categoryId: cat,
        notes: 'DCF',
        productUrl: 'https://zpacks.com/duplex',
        imageFilename: 'abc.webp',
        imageSourceUrl: 'https://zpacks.com/duplex.webp',
        status: 'ordered',
        pros: 'light',
        cons: 'price',
        sortOrder: 0,
      } satisfies NewCandidate
      const candidate = await repo().addCandidate(thread.id, fields)
      expect(candidate).toMatchObject(fields)
      expect(await repo().findCandidate(thread.id, candidate.id)).toEqual(candidate)
    })

    test('addCandidate to a missing thread is NotFoundError; unknown category is a ValidationError', async () => {
      expect(await rejection(repo().addCandidate(5, { name: 'x' }))).toBeInstanceOf(NotFoundError)
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const error = await rejection(repo().addCandidate(thread.id, { name: 'x', categoryId: 99 }))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details).toEqual([{ path: 'categoryId', message: 'category does not exist' }])
    })

    test.each([
      [{ weightGrams: -1 }, 'thread_candidates_weight_grams_check'],
      [{ weightGrams: Number.POSITIVE_INFINITY }, 'thread_candidates_weight_grams_check'],
      [{ priceCents: -5 }, 'thread_candidates_price_cents_check'],
      [{ status: 'lost' as CandidateStatus }, 'thread_candidates_status_check'],
      [{ sortOrder: Number.NEGATIVE_INFINITY }, 'thread_candidates_sort_order_check'],
    ])('check constraints reject %p', async (fields, constraint) => {
      const thread = await repo().create({ name: 'Tent', categoryId: 1 })
      const error = await rejection(repo().addCandidate(thread.id, { name: 'x', ...fields }))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details[0]?.path).toBe(constraint)
      const candidate = await repo().addCandidate(thread.id, { name: 'ok' })
      const onUpdate = await rejection(repo().updateCandidate(thread.id, candidate.id, fields))
      expect((onUpdate as ValidationError).details[0]?.path).toBe(constraint)
    })

    test('findCandidate only finds a candidate of the given thread', async () => {
      const a = await repo().create({ name: 'A', categoryId: 1 })
      const b = await repo().create({ name: 'B', categoryId: 1 })
      const candidate = await repo().addCandidate(a.id, { name: 'x' })
      expect((await repo().findCandidate(a.id, candidate.id))?.name).toBe('x')
      expect(await repo().findCandidate(b.id, candidate.id)).toBeUndefined()
      expect(await repo().findCandidate(a.id, 99)).toBeUndefined()
    })

    test('updateCandidate changes given fields, clears with null, and only within its thread', async () => {
      const a = await repo().create({ name: 'A', categoryId: 1 })
      const b = await repo().create({ name: 'B', categoryId: 1 })
      const candidate = await repo().addCandidate(a.id, { name: 'x', notes: 'n', weightGrams: 100 })
      const past = new Date('2020-01-01T00:00:00Z')
      await t.db.updateTable('thread_candidates').set({ created_at: past, updated_at: past }).execute()
      const updated = await repo().updateCandidate(a.id, candidate.id, { name: 'y', notes: null, status: 'arrived', sortOrder: 3 })
      expect(updated).toMatchObject({ name: 'y', notes: null, weightGrams: 100, status: 'arrived', sortOrder: 3, createdAt: past.toISOString() })
      expect(Date.parse(updated.updatedAt)).toBeGreaterThan(past.getTime())
      expect(await rejection(repo().updateCandidate(b.id, candidate.id, { name: 'z' }))).toBeInstanceOf(NotFoundError)
      expect(await rejection(repo().updateCandidate(a.id, 99, { name: 'z' }))).toBeInstanceOf(NotFoundError)
      const badCategory = await rejection(repo().updateCandidate(a.id, candidate.id, { categoryId: 99 }))
      expect((badCategory as ValidationError).details[0]?.path).toBe('categoryId')
      expect((await repo().findCandidate(a.id, candidate.id))?.name).toBe('y')
    })

    test('deleteCandidate removes only a candidate of its thread; deleting the resolved one clears the resolution', async () => {
      const a = await repo().create({ name: 'A', categoryId: 1 })
      const b = await repo().create({ name: 'B', categoryId: 1 })
      const candidate = await repo().addCandidate(a.id, { name: 'x' })
      expect(await rejection(repo().deleteCandidate(b.id, candidate.id))).toBeInstanceOf(NotFoundError)
      await repo().setResolution(a.id, { status: 'resolved', resolvedCandidateId: candidate.id })
      await repo().deleteCandidate(a.id, candidate.id)
      expect(await repo().findById(a.id)).toMatchObject({ status: 'resolved', resolvedCandidateId: null, candidates: [] })
      expect(await rejection(repo().deleteCandidate(a.id, candidate.id))).toBeInstanceOf(NotFoundError)
    })
  })

  describe('reorderCandidates', () => {
    async function threadWith(names: string[]) {
      const thread = await repo().create({ name: 'T', categoryId: 1 })
      const ids: number[] = []
      for (const name of names) ids.push((await repo().addCandidate(thread.id, { name })).id)
      return { threadId: thread.id, ids }
    }
    const order = async (threadId: number) => (await repo().findById(threadId))?.candidates.map((c) => [c.id, c.sortOrder])

    test('gives sortOrder 1..n in the listed order', async () => {
      const { threadId, ids } = await threadWith(['a', 'b', 'c'])
      await inTransaction((r) => r.reorderCandidates(threadId, [ids[2]!, ids[0]!, ids[1]!]))
      expect(await order(threadId)).toEqual([
        [3, 1],
        [1, 2],
        [2, 3],
      ])
    })

    test('an empty list fits a thread without candidates only', async () => {
      const empty = await threadWith([])
      await inTransaction((r) => r.reorderCandidates(empty.threadId, []))
      const full = await threadWith(['a'])
      expect(await rejection(inTransaction((r) => r.reorderCandidates(full.threadId, [])))).toBeInstanceOf(ValidationError)
    })

    test.each([
      ['a missing one', (ids: number[], _foreign: number) => [ids[0]!, ids[1]!]],
      ['a duplicate', (ids: number[], _foreign: number) => [...ids, ids[0]!]],
      ['a duplicate in place of one', (ids: number[], _foreign: number) => [ids[0]!, ids[1]!, ids[1]!]],
      ['a foreign candidate', (ids: number[], foreign: number) => [ids[0]!, ids[1]!, ids[2]!, foreign]],
      ['a foreign one in place of one', (ids: number[], foreign: number) => [ids[0]!, ids[1]!, foreign]],
      ['an unknown id', (ids: number[], _foreign: number) => [...ids, 999]],
    ])('rejects a list with %s and changes nothing', async (_name, make) => {
      const { threadId, ids } = await threadWith(['a', 'b', 'c'])
      const foreign = (await threadWith(['z'])).ids[0]!
      const before = await order(threadId)
      const error = await rejection(inTransaction((r) => r.reorderCandidates(threadId, make(ids, foreign))))
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).details[0]?.path).toBe('candidateIds')
      expect(await order(threadId)).toEqual(before)
      expect(await order(2)).toEqual([[foreign, 1]])
    })

    test('needs a transaction (it locks the thread and its candidates)', async () => {
      const { threadId, ids } = await threadWith(['a'])
      expect(await rejection(repo().reorderCandidates(threadId, ids))).toBeInstanceOf(TransactionRequiredError)
    })

    test('a missing thread is NotFoundError', async () => {
      expect(await rejection(inTransaction((r) => r.reorderCandidates(3, [1])))).toBeInstanceOf(NotFoundError)
      expect(await rejection(inTransaction((r) => r.reorderCandidates(3, [])))).toBeInstanceOf(NotFoundError)
    })
  })
})
