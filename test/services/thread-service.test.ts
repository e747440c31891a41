import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { createStore, type Repositories, repositoriesFor } from '../../src/repositories'
import { ThreadService } from '../../src/services/thread-service'
import { onServerDatabase, serverUrl, useTestDatabase } from '../support/database'
import { rejection, storeWith } from '../support/failures'

describe('ThreadService.resolve', () => {
  const t = useTestDatabase()

  const serviceWith = <K extends 'items' | 'threads'>(repo: K, overrides: (repos: Repositories) => Partial<Repositories[K]>) =>
    new ThreadService(storeWith(t.db, repo, overrides))

  async function threadWithCandidate() {
    const repos = repositoriesFor(t.db)
    const thread = await repos.threads.create({ name: 'Tent', categoryId: 1 })
    const candidate = await repos.threads.addCandidate(thread.id, { name: 'Duplex', weightGrams: 539, priceCents: 61900 })
    return { threadId: thread.id, candidateId: candidate.id }
  }

  async function expectUntouched(threadId: number) {
    expect(await repositoriesFor(t.db).threads.findById(threadId)).toMatchObject({ status: 'active', resolvedCandidateId: null })
    expect(await t.db.selectFrom('items').selectAll().execute()).toEqual([])
  }

  test('an item insert that fails after it ran rolls back: thread still active, no item', async () => {
    const { threadId, candidateId } = await threadWithCandidate()
    const service = serviceWith('items', (repos) => ({
      async create(input) {
        await repos.items.create(input)
        throw new Error('lost connection after insert')
      },
    }))
    await expect(service.resolve(threadId, candidateId)).rejects.toThrow('lost connection after insert')
    await expectUntouched(threadId)
  })

  test('a failure after both writes ran rolls both back', async () => {
    const { threadId, candidateId } = await threadWithCandidate()
    const service = serviceWith('threads', (repos) => ({
      async setResolution(id, resolution) {
        await repos.threads.setResolution(id, resolution)
        throw new Error('crash after update')
      },
    }))
    await expect(service.resolve(threadId, candidateId)).rejects.toThrow('crash after update')
    await expectUntouched(threadId)
  })

  test('a database error marking the thread resolved rolls the item back', async () => {
    const { threadId, candidateId } = await threadWithCandidate()
    // A real database error: the resolved candidate must exist.
    const service = serviceWith('threads', (repos) => ({
      setResolution: () => repos.threads.setResolution(threadId, { status: 'resolved', resolvedCandidateId: 424242 }),
    }))
    const error = await service.resolve(threadId, candidateId).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConflictError)
    await expectUntouched(threadId)
  })

  test('resolve then unresolve through the real unit of work', async () => {
    const { threadId, candidateId } = await threadWithCandidate()
    const service = new ThreadService(createStore(t.db))
    const { thread, item } = await service.resolve(threadId, candidateId)
    expect(thread).toMatchObject({ status: 'resolved', resolvedCandidateId: candidateId })
    expect(item).toMatchObject({ name: 'Duplex', weightGrams: 539, priceCents: 61900, categoryId: 1, quantity: 1 })
    await expect(service.resolve(threadId, candidateId)).rejects.toBeInstanceOf(ConflictError)
    expect(await service.unresolve(threadId)).toMatchObject({ status: 'active', resolvedCandidateId: null })
    await expect(service.unresolve(threadId)).rejects.toBeInstanceOf(ConflictError)
    expect(await t.db.selectFrom('items').select('name').execute()).toEqual([{ name: 'Duplex' }])
  })

  test('a missing thread is NotFoundError; a foreign candidate is a ValidationError on candidateId', async () => {
    const { threadId } = await threadWithCandidate()
    const other = await threadWithCandidate()
    const service = new ThreadService(createStore(t.db))
    await expect(service.resolve(99, other.candidateId)).rejects.toBeInstanceOf(NotFoundError)
    await expect(service.unresolve(99)).rejects.toBeInstanceOf(NotFoundError)
    const error = await service.resolve(threadId, other.candidateId).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).details).toEqual([{ path: 'candidateId', message: 'is not a candidate of this thread' }])
    await expectUntouched(threadId)
  })
})

// PGlite runs one transaction at a time, so there the second resolve would wait without any lock.
describe.if(serverUrl !== undefined)('ThreadService.resolve on a PostgreSQL server', () => {
  test('of two concurrent resolves the second waits for the first and then finds the thread resolved', () =>
    onServerDatabase(async (db) => {
      const repos = repositoriesFor(db)
      const thread = await repos.threads.create({ name: 'Tent', categoryId: 1 })
      const first = await repos.threads.addCandidate(thread.id, { name: 'first' })
      const second = await repos.threads.addCandidate(thread.id, { name: 'second' })
      // The first resolve stops after it has checked the status, while its transaction is open;
      // it goes on once the second has asked for the thread's lock (and, without one, read the status).
      const firstChecked = Promise.withResolvers<void>()
      const secondLocking = Promise.withResolvers<void>()
      const releaseFirst = Promise.withResolvers<void>()
      let locks = 0
      let checks = 0
      const service = new ThreadService(
        storeWith(db, 'threads', (trx) => ({
          lockById(id) {
            if (locks++ === 1) secondLocking.resolve()
            return trx.threads.lockById(id)
          },
          async findCandidate(threadId, candidateId, options) {
            // The locked read, after the status check (the first read only finds the candidate's category).
            if (options?.lock && checks++ === 0) {
              firstChecked.resolve()
              await releaseFirst.promise
            }
            return trx.threads.findCandidate(threadId, candidateId, options)
          },
        })),
      )
      const resolvingFirst = service.resolve(thread.id, first.id)
      await firstChecked.promise
      const resolvingSecond = rejection(service.resolve(thread.id, second.id))
      await secondLocking.promise
      await Bun.sleep(100)
      releaseFirst.resolve()
      expect((await resolvingFirst).item.name).toBe('first')
      expect(await resolvingSecond).toBeInstanceOf(ConflictError)
      expect(await db.selectFrom('items').select('name').execute()).toEqual([{ name: 'first' }])
      expect(await repos.threads.findById(thread.id)).toMatchObject({ status: 'resolved', resolvedCandidateId: first.id })
    }))

  test('a delete of the candidate while it is being resolved waits for the resolve, then is refused: the thread keeps its choice', () =>
    onServerDatabase(async (db) => {
      const repos = repositoriesFor(db)
      const thread = await repos.threads.create({ name: 'Stove', categoryId: 1 })
      const candidate = await repos.threads.addCandidate(thread.id, { name: 'canister stove' })
      // The resolve stops once it has found the candidate, its transaction open.
      const found = Promise.withResolvers<void>()
      const release = Promise.withResolvers<void>()
      const service = new ThreadService(
        storeWith(db, 'threads', (trx) => ({
          async findCandidate(threadId, candidateId, options) {
            const result = await trx.threads.findCandidate(threadId, candidateId, options)
            if (!options?.lock) return result
            found.resolve()
            await release.promise
            return result
          },
        })),
      )
      const resolving = service.resolve(thread.id, candidate.id)
      await found.promise
      let deleted = false
      const deleting = rejection(
        new ThreadService(createStore(db)).deleteCandidate(thread.id, candidate.id).then(() => {
          deleted = true
        }),
      )
      await Bun.sleep(200)
      // Without the thread's lock the delete would be done, and the resolve's reference to it a 409.
      expect(deleted).toBe(false)
      release.resolve()
      expect((await resolving).item.name).toBe('canister stove')
      // The delete then sees the thread resolved with that candidate: refused, the choice kept.
      expect(await deleting).toBeInstanceOf(ConflictError)
      expect(await repos.threads.findById(thread.id)).toMatchObject({ status: 'resolved', resolvedCandidateId: candidate.id })
      expect(await db.selectFrom('items').select('name').execute()).toEqual([{ name: 'canister stove' }])
    }))
})
