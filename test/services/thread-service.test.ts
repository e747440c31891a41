import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError, ValidationError } from '../../src/errors'
import { createStore, type Repositories, repositoriesFor } from '../../src/repositories'
import { ThreadService } from '../../src/services/thread-service'
import { useTestDatabase } from '../support/database'
import { storeWith } from '../support/failures'

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
