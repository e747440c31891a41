import { ConflictError, NotFoundError, ValidationError } from '../errors'
import type { Repositories, UnitOfWork } from '../repositories'
import type { ItemWithCategory } from '../repositories/item-repository'
import type { Page, PageRequest } from '../repositories/paging'
import type {
  Candidate,
  CandidatePatch,
  NewCandidate,
  NewThread,
  ThreadPatch,
  ThreadStatus,
  ThreadSummary,
  ThreadWithCandidates,
} from '../repositories/thread-repository'

export interface Resolution {
  thread: ThreadWithCandidates
  item: ItemWithCategory
}

/** Purchase research: threads compare candidates until one is bought and becomes an item. */
export class ThreadService {
  constructor(
    private readonly repos: Repositories,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  list(filter: { status?: ThreadStatus } = {}): Promise<ThreadSummary[]> {
    return this.repos.threads.list(filter)
  }

  /** One page of the list. Throws ValidationError for a bad cursor. */
  listPage(filter: { status?: ThreadStatus }, page: PageRequest): Promise<Page<ThreadSummary>> {
    return this.repos.threads.listPage(filter, page)
  }

  /** Throws NotFoundError. */
  async get(id: number): Promise<ThreadWithCandidates> {
    return getThread(this.repos, id)
  }

  /** Throws ValidationError for an unknown category. */
  async create(input: NewThread): Promise<ThreadWithCandidates> {
    return { ...(await this.repos.threads.create(input)), candidates: [] }
  }

  /** Throws NotFoundError, or ValidationError for an unknown category. */
  async update(id: number, patch: ThreadPatch): Promise<ThreadWithCandidates> {
    await this.repos.threads.update(id, patch)
    return this.get(id)
  }

  /** Throws NotFoundError. */
  delete(id: number): Promise<void> {
    return this.repos.threads.delete(id)
  }

  /** Throws NotFoundError (thread), or ValidationError for an unknown category. */
  addCandidate(threadId: number, input: NewCandidate): Promise<Candidate> {
    return this.repos.threads.addCandidate(threadId, input)
  }

  /** Throws NotFoundError unless the candidate belongs to the thread. */
  updateCandidate(threadId: number, candidateId: number, patch: CandidatePatch): Promise<Candidate> {
    return this.repos.threads.updateCandidate(threadId, candidateId, patch)
  }

  /** Throws NotFoundError unless the candidate belongs to the thread. */
  deleteCandidate(threadId: number, candidateId: number): Promise<void> {
    return this.repos.threads.deleteCandidate(threadId, candidateId)
  }

  /** Throws NotFoundError, or ValidationError unless `candidateIds` is exactly the thread's candidates. */
  async reorderCandidates(threadId: number, candidateIds: number[]): Promise<ThreadWithCandidates> {
    await this.repos.threads.reorderCandidates(threadId, candidateIds)
    return this.get(threadId)
  }

  /**
   * Buys a candidate: creates an item from it and marks the thread resolved, together or not
   * at all. The thread row stays locked meanwhile, so of two concurrent resolves one waits and
   * then sees a resolved thread. Throws NotFoundError (thread), ConflictError (already resolved),
   * or ValidationError (path candidateId) if the candidate is not one of the thread's.
   */
  resolve(threadId: number, candidateId: number): Promise<Resolution> {
    return this.unitOfWork(async (repos) => {
      const thread = await repos.threads.lockById(threadId)
      if (thread.status !== 'active') throw new ConflictError(`thread ${threadId} is already resolved`)
      const candidate = await repos.threads.findCandidate(threadId, candidateId)
      if (!candidate) {
        throw new ValidationError(`candidate ${candidateId} is not in thread ${threadId}`, [
          { path: 'candidateId', message: 'is not a candidate of this thread' },
        ])
      }
      const item = await repos.items.create({
        name: candidate.name,
        categoryId: candidate.categoryId,
        weightGrams: candidate.weightGrams,
        priceCents: candidate.priceCents,
        notes: candidate.notes,
        productUrl: candidate.productUrl,
        imageFilename: candidate.imageFilename,
        imageSourceUrl: candidate.imageSourceUrl,
        quantity: 1,
      })
      await repos.threads.setResolution(threadId, { status: 'resolved', resolvedCandidateId: candidateId })
      return { thread: await getThread(repos, threadId), item }
    })
  }

  /** Makes the thread active again; the item it created stays. Throws NotFoundError, or ConflictError if it is not resolved. */
  unresolve(threadId: number): Promise<ThreadWithCandidates> {
    return this.unitOfWork(async (repos) => {
      const thread = await repos.threads.lockById(threadId)
      if (thread.status !== 'resolved') throw new ConflictError(`thread ${threadId} is not resolved`)
      await repos.threads.setResolution(threadId, { status: 'active', resolvedCandidateId: null })
      return getThread(repos, threadId)
    })
  }
}

async function getThread(repos: Repositories, id: number): Promise<ThreadWithCandidates> {
  const thread = await repos.threads.findById(id)
  if (!thread) throw new NotFoundError('thread', id)
  return thread
}
