import { gearOf } from '../domain/gear'
import type { ItemWithCategory } from '../domain/item'
import type { Candidate, CandidatePatch, NewCandidate, NewThread, ThreadPatch, ThreadStatus, ThreadSummary, ThreadWithCandidates } from '../domain/thread'
import { ConflictError, NotFoundError, ValidationError } from '../errors'
import type { Repositories, Store } from '../repositories'
import type { Page, PageRequest } from '../repositories/paging'

export interface Resolution {
  thread: ThreadWithCandidates
  item: ItemWithCategory
}

/** Purchase research: threads compare candidates until one is bought and becomes an item. */
export class ThreadService {
  constructor(private readonly store: Store) {}

  list(filter: { status?: ThreadStatus } = {}): Promise<ThreadSummary[]> {
    return this.store.read((repos) => repos.threads.list(filter))
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(filter: { status?: ThreadStatus }, page: PageRequest): Promise<Page<ThreadSummary>> {
    return this.store.read((repos) => repos.threads.listPage(filter, page))
  }

  async get(id: number): Promise<ThreadWithCandidates> {
    return this.store.read((repos) => getThread(repos, id))
  }

  async create(input: NewThread): Promise<ThreadWithCandidates> {
    return { ...(await this.store.autocommit((repos) => repos.threads.create(input))), candidates: [] }
  }

  async update(id: number, patch: ThreadPatch): Promise<ThreadWithCandidates> {
    return this.store.write(async (repos) => {
      await repos.threads.update(id, patch)
      return getThread(repos, id)
    })
  }

  delete(id: number): Promise<void> {
    return this.store.autocommit((repos) => repos.threads.delete(id))
  }

  /**
   * Adds a candidate; without a categoryId it takes the thread's. NotFoundError for an unknown
   * thread, ValidationError (path categoryId) for an unknown category.
   */
  addCandidate(threadId: number, input: NewCandidate): Promise<Candidate> {
    return this.store.write(async (repos) => {
      if (input.categoryId !== undefined) return repos.threads.addCandidate(threadId, input)
      for (;;) {
        const categoryId = await lockCategoryOf(repos, async () => (await repos.threads.findById(threadId))?.categoryId)
        const thread = await repos.threads.lockById(threadId)
        // Moved to another category since it was read: lock that one.
        if (thread.categoryId === categoryId) return repos.threads.addCandidate(threadId, { ...input, categoryId })
      }
    })
  }

  updateCandidate(threadId: number, candidateId: number, patch: CandidatePatch): Promise<Candidate> {
    return this.store.autocommit((repos) => repos.threads.updateCandidate(threadId, candidateId, patch))
  }

  /**
   * Deletes a candidate. The one a resolved thread was resolved with may not be deleted
   * (ConflictError: unresolve the thread first), so a resolved thread always names its choice;
   * the thread is locked first, so a concurrent resolve naming the candidate is seen. Throws
   * NotFoundError for an unknown thread, or a candidate not in it.
   */
  deleteCandidate(threadId: number, candidateId: number): Promise<void> {
    return this.store.write(async (repos) => {
      const thread = await repos.threads.lockById(threadId)
      if (thread.status === 'resolved' && thread.resolvedCandidateId === candidateId) {
        throw new ConflictError(`candidate ${candidateId} is the one thread ${threadId} was resolved with: unresolve the thread before deleting it`)
      }
      await repos.threads.deleteCandidate(threadId, candidateId)
    })
  }

  async reorderCandidates(threadId: number, candidateIds: number[]): Promise<ThreadWithCandidates> {
    return this.store.write(async (repos) => {
      await repos.threads.reorderCandidates(threadId, candidateIds)
      return getThread(repos, threadId)
    })
  }

  /**
   * Buys a candidate: creates an item from its gear fields and marks the thread resolved, all or
   * nothing; a concurrent resolve, or a delete of one of its candidates, waits on the thread's
   * lock (the delete then finds the candidate chosen: a 409). ConflictError when already resolved,
   * ValidationError (path candidateId) for a candidate of another thread.
   */
  resolve(threadId: number, candidateId: number): Promise<Resolution> {
    return this.store.write(async (repos) => {
      for (;;) {
        // The candidate's category first, which the item will be in: a concurrent delete of it
        // then either ends before (the candidate is in Uncategorized by then) or waits for this.
        const categoryId = await lockCategoryOf(repos, async () => (await repos.threads.findCandidate(threadId, candidateId))?.categoryId)
        const thread = await repos.threads.lockById(threadId)
        if (thread.status !== 'active') throw new ConflictError(`thread ${threadId} is already resolved`)
        // Locked, so that a concurrent delete of the candidate waits for the thread to name it.
        const candidate = await repos.threads.findCandidate(threadId, candidateId, { lock: true })
        if (!candidate) {
          throw new ValidationError(`candidate ${candidateId} is not in thread ${threadId}`, [
            { path: 'candidateId', message: 'is not a candidate of this thread' },
          ])
        }
        // Moved to another category (or added) since it was read: lock that one.
        if (candidate.categoryId !== categoryId) continue
        const item = await repos.items.create({ ...gearOf(candidate), quantity: 1 })
        await repos.threads.setResolution(threadId, { status: 'resolved', resolvedCandidateId: candidateId })
        return { thread: await getThread(repos, threadId), item }
      }
    })
  }

  /** Makes the thread active again; the item it created stays. ConflictError if it is not resolved. */
  unresolve(threadId: number): Promise<ThreadWithCandidates> {
    return this.store.write(async (repos) => {
      const thread = await repos.threads.lockById(threadId)
      if (thread.status !== 'resolved') throw new ConflictError(`thread ${threadId} is not resolved`)
      await repos.threads.setResolution(threadId, { status: 'active', resolvedCandidateId: null })
      return getThread(repos, threadId)
    })
  }
}

/**
 * Locks FOR KEY SHARE the category that `read` names (the category of a thread or candidate,
 * about to be copied into a new row) and returns its id; undefined when `read` finds no row.
 * Taken before that row's own lock, in the order a category delete takes them (the category,
 * then the rows it moves to Uncategorized), so the two never deadlock, and the copy never
 * names a category deleted meanwhile. A category deleted while this waited moved its rows:
 * `read` runs again. The caller checks, once it holds the row's lock, that the row is still in
 * the category returned (else it starts over).
 */
async function lockCategoryOf(repos: Repositories, read: () => Promise<number | undefined>): Promise<number | undefined> {
  for (;;) {
    const categoryId = await read()
    if (categoryId === undefined || (await repos.categories.lockForKeyShare(categoryId))) return categoryId
  }
}

async function getThread(repos: Repositories, id: number): Promise<ThreadWithCandidates> {
  const thread = await repos.threads.findById(id)
  if (!thread) throw new NotFoundError('thread', id)
  return thread
}
