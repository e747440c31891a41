import { type Kysely, type Selectable, sql } from 'kysely'
import { jsonArrayFrom } from 'kysely/helpers/postgres'
import { onConstraint } from '../db/errors'
import type { Database } from '../db/schema'
import {
  CANDIDATE_KEYS,
  type Candidate,
  type CandidatePatch,
  type NewCandidate,
  type NewThread,
  type Thread,
  type ThreadPatch,
  type ThreadResolution,
  type ThreadStatus,
  type ThreadSummary,
  type ThreadWithCandidates,
} from '../domain/thread'
import { toTimestamp } from '../domain/timestamp'
import { NotFoundError, ValidationError } from '../errors'
import { fromColumns, toColumns } from './columns'
import { unknownCategory } from './item-repository'
import { decodeCursor, epochMicros, fromEpochMicros, type Page, type PageRequest, toPage } from './paging'
import { assertTransaction } from './transaction'

export interface ThreadRepository {
  /** Threads newest first, with their candidate counts. */
  list(filter?: { status?: ThreadStatus }): Promise<ThreadSummary[]>
  /** One page of `list` (see PageRequest). Throws ValidationError (path `query.cursor`) for a bad cursor. */
  listPage(filter: { status?: ThreadStatus }, page: PageRequest): Promise<Page<ThreadSummary>>
  /** The thread with its candidates by sortOrder, then id; undefined if it does not exist. */
  findById(id: number): Promise<ThreadWithCandidates | undefined>
  /**
   * Reads the thread and locks its row (FOR UPDATE) until the transaction ends, so concurrent
   * changes to its status wait for each other. Throws NotFoundError; TransactionRequiredError outside a transaction.
   */
  lockById(id: number): Promise<Thread>
  /** One statement. Throws ValidationError (path categoryId) for an unknown category. */
  create(input: NewThread): Promise<Thread>
  /** Throws NotFoundError, or ValidationError (path categoryId) for an unknown category. */
  update(id: number, patch: ThreadPatch): Promise<Thread>
  /** Sets status and resolved candidate. Throws NotFoundError. */
  setResolution(id: number, resolution: ThreadResolution): Promise<Thread>
  /** One statement: deletes the thread and (by cascade) its candidates. Throws NotFoundError. */
  delete(id: number): Promise<void>
  /**
   * Moves every thread and every candidate of `fromCategoryId` to `toCategoryId`. Throws ConflictError
   * if `toCategoryId` does not exist; TransactionRequiredError outside a transaction.
   */
  reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<void>

  /**
   * The candidate if it belongs to the thread, else undefined. With `lock` (inside a
   * transaction) its row is locked FOR KEY SHARE until the transaction ends: a concurrent
   * delete of it waits, so a reference to it written meanwhile stays valid.
   */
  findCandidate(threadId: number, candidateId: number, options?: { lock?: boolean }): Promise<Candidate | undefined>
  /**
   * Without `sortOrder` the candidate comes last (the thread's highest sort order + 1). Locks
   * the thread's row (FOR NO KEY UPDATE) until the caller's transaction ends, so candidates
   * added at once take distinct places. Throws NotFoundError (thread), or ValidationError
   * (path categoryId) for an unknown category.
   */
  addCandidate(threadId: number, input: NewCandidate): Promise<Candidate>
  /** One statement. Throws NotFoundError if the candidate is not one of the thread's, ValidationError for an unknown category. */
  updateCandidate(threadId: number, candidateId: number, patch: CandidatePatch): Promise<Candidate>
  /** One statement. Throws NotFoundError if the candidate is not one of the thread's. */
  deleteCandidate(threadId: number, candidateId: number): Promise<void>
  /**
   * Gives the candidates sortOrder 1..n in the order of `candidateIds`, in one statement.
   * Throws NotFoundError (thread), or ValidationError (path candidateIds) unless the list is
   * exactly the thread's candidates, each once; then nothing changes. Locks the thread and its
   * candidates first (TransactionRequiredError outside a transaction).
   */
  reorderCandidates(threadId: number, candidateIds: number[]): Promise<void>
}

type ThreadRow = Selectable<Database['threads']>
// Rows nested with jsonArrayFrom carry their timestamps as JSON strings.
type CandidateRow = Omit<Selectable<Database['thread_candidates']>, 'created_at' | 'updated_at'> & {
  created_at: Date | string
  updated_at: Date | string
}

function toThread(row: ThreadRow): Thread {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    categoryId: row.category_id,
    resolvedCandidateId: row.resolved_candidate_id,
    createdAt: toTimestamp(row.created_at),
    updatedAt: toTimestamp(row.updated_at),
  }
}

function toSummary(row: ThreadRow & { candidate_count: number | null }): ThreadSummary {
  return { ...toThread(row), candidateCount: Number(row.candidate_count ?? 0) }
}

function toCandidate(row: CandidateRow): Candidate {
  return {
    id: row.id,
    threadId: row.thread_id,
    ...fromColumns(row, CANDIDATE_KEYS),
    createdAt: toTimestamp(row.created_at),
    updatedAt: toTimestamp(row.updated_at),
  }
}

const threadErrors = onConstraint({ threads_category_id_fkey: unknownCategory })
const candidateErrors = onConstraint({ thread_candidates_category_id_fkey: unknownCategory })

export class KyselyThreadRepository implements ThreadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(filter: { status?: ThreadStatus } = {}): Promise<ThreadSummary[]> {
    const rows = await this.listQuery(filter).execute()
    return rows.map(toSummary)
  }

  async listPage(filter: { status?: ThreadStatus }, page: PageRequest): Promise<Page<ThreadSummary>> {
    let query = this.listQuery(filter)
    if (page.cursor) {
      const [createdAt, id] = decodeCursor(page.cursor, ['integer', 'id'])
      query = query.where(sql<boolean>`(t.created_at, t.id) < (${fromEpochMicros(createdAt)}, ${id})`)
    }
    const rows = await query
      .select(epochMicros('t.created_at').as('created_us'))
      .limit(page.limit + 1)
      .execute()
    return toPage(rows, page.limit, toSummary, (row) => [row.created_us, row.id])
  }

  /** Threads with their candidate counts in list order: newest first (created_at, then id, descending). */
  private listQuery(filter: { status?: ThreadStatus }) {
    let query = this.db
      .selectFrom('threads as t')
      .selectAll('t')
      .select((eb) =>
        eb.selectFrom('thread_candidates as c').whereRef('c.thread_id', '=', 't.id').select(eb.fn.countAll<number>().as('n')).as('candidate_count'),
      )
      .orderBy('t.created_at', 'desc')
      .orderBy('t.id', 'desc')
    if (filter.status) query = query.where('t.status', '=', filter.status)
    return query
  }

  async findById(id: number): Promise<ThreadWithCandidates | undefined> {
    const row = await this.db
      .selectFrom('threads as t')
      .selectAll('t')
      .select((eb) =>
        jsonArrayFrom(eb.selectFrom('thread_candidates as c').selectAll('c').whereRef('c.thread_id', '=', 't.id').orderBy('c.sort_order').orderBy('c.id')).as(
          'candidates',
        ),
      )
      .where('t.id', '=', id)
      .executeTakeFirst()
    return row && { ...toThread(row), candidates: row.candidates.map(toCandidate) }
  }

  async lockById(id: number): Promise<Thread> {
    assertTransaction(this.db, 'ThreadRepository.lockById')
    const row = await this.db.selectFrom('threads').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('thread', id)
    return toThread(row)
  }

  async create(input: NewThread): Promise<Thread> {
    const row = await this.db
      .insertInto('threads')
      .values({ name: input.name, category_id: input.categoryId })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(threadErrors)
    return toThread(row)
  }

  async update(id: number, patch: ThreadPatch): Promise<Thread> {
    const row = await this.db
      .updateTable('threads')
      .set({ name: patch.name, category_id: patch.categoryId, updated_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
      .catch(threadErrors)
    if (!row) throw new NotFoundError('thread', id)
    return toThread(row)
  }

  async setResolution(id: number, resolution: ThreadResolution): Promise<Thread> {
    const row = await this.db
      .updateTable('threads')
      .set({ status: resolution.status, resolved_candidate_id: resolution.resolvedCandidateId, updated_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new NotFoundError('thread', id)
    return toThread(row)
  }

  async delete(id: number): Promise<void> {
    const { numDeletedRows } = await this.db.deleteFrom('threads').where('id', '=', id).executeTakeFirst()
    if (numDeletedRows === 0n) throw new NotFoundError('thread', id)
  }

  async reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<void> {
    assertTransaction(this.db, 'ThreadRepository.reassignCategory')
    await this.db.updateTable('threads').set({ category_id: toCategoryId, updated_at: sql`now()` }).where('category_id', '=', fromCategoryId).execute()
    // Candidates are changed in id order, as reorderCandidates changes them (see lockCandidates).
    await this.db
      .with('locked', (db) => db.selectFrom('thread_candidates').select('id').where('category_id', '=', fromCategoryId).orderBy('id').forNoKeyUpdate())
      .updateTable('thread_candidates')
      .set({ category_id: toCategoryId, updated_at: sql`now()` })
      .from('locked')
      .whereRef('thread_candidates.id', '=', 'locked.id')
      .execute()
  }

  async findCandidate(threadId: number, candidateId: number, { lock = false } = {}): Promise<Candidate | undefined> {
    if (lock) assertTransaction(this.db, 'ThreadRepository.findCandidate({ lock: true })')
    const row = await this.db
      .selectFrom('thread_candidates')
      .selectAll()
      .where('id', '=', candidateId)
      .where('thread_id', '=', threadId)
      .$if(lock, (q) => q.forKeyShare())
      .executeTakeFirst()
    return row && toCandidate(row)
  }

  async addCandidate(threadId: number, input: NewCandidate): Promise<Candidate> {
    const thread = await this.db.selectFrom('threads').select('category_id').where('id', '=', threadId).forNoKeyUpdate().executeTakeFirst()
    if (!thread) throw new NotFoundError('thread', threadId)
    const row = await this.db
      .insertInto('thread_candidates')
      .values((eb) => ({
        ...toColumns(input, CANDIDATE_KEYS),
        name: input.name,
        thread_id: threadId,
        category_id: input.categoryId ?? thread.category_id,
        sort_order:
          input.sortOrder ??
          eb.selectFrom('thread_candidates').select(sql<number>`coalesce(max(sort_order), 0) + 1`.as('next')).where('thread_id', '=', threadId),
      }))
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(
        onConstraint({
          // The thread was deleted between the two statements.
          thread_candidates_thread_id_fkey: () => new NotFoundError('thread', threadId),
          thread_candidates_category_id_fkey: unknownCategory,
        }),
      )
    return toCandidate(row)
  }

  async updateCandidate(threadId: number, candidateId: number, patch: CandidatePatch): Promise<Candidate> {
    const row = await this.db
      .updateTable('thread_candidates')
      .set({ ...toColumns(patch, CANDIDATE_KEYS), updated_at: sql`now()` })
      .where('id', '=', candidateId)
      .where('thread_id', '=', threadId)
      .returningAll()
      .executeTakeFirst()
      .catch(candidateErrors)
    if (!row) throw new NotFoundError('candidate', candidateId)
    return toCandidate(row)
  }

  async deleteCandidate(threadId: number, candidateId: number): Promise<void> {
    const { numDeletedRows } = await this.db.deleteFrom('thread_candidates').where('id', '=', candidateId).where('thread_id', '=', threadId).executeTakeFirst()
    if (numDeletedRows === 0n) throw new NotFoundError('candidate', candidateId)
  }

  async reorderCandidates(threadId: number, candidateIds: number[]): Promise<void> {
    assertTransaction(this.db, 'ThreadRepository.reorderCandidates')
    await this.lockCandidates(threadId)
    const n = candidateIds.length
    const countOf = (ids?: number[]) =>
      this.db
        .selectFrom('thread_candidates')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('thread_id', '=', threadId)
        .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
    if (n === 0) {
      if (!(await this.exists(threadId))) throw new NotFoundError('thread', threadId)
      if ((await countOf().executeTakeFirstOrThrow()).n === 0) return
    } else {
      // The guard makes it all or nothing: every listed id is one of the thread's candidates
      // (so duplicates fall short of n) and the thread has no others.
      const result = await this.db
        .updateTable('thread_candidates')
        .set({
          sort_order: sql<number>`case id ${sql.join(
            candidateIds.map((id, i) => sql`when ${id} then ${sql.lit(i + 1)}`),
            sql` `,
          )} end`,
          updated_at: sql`now()`,
        })
        .where('thread_id', '=', threadId)
        .where('id', 'in', candidateIds)
        .where(countOf(candidateIds), '=', n)
        .where(countOf(), '=', n)
        .executeTakeFirst()
      if (Number(result.numUpdatedRows) === n) return
      if (!(await this.exists(threadId))) throw new NotFoundError('thread', threadId)
    }
    throw new ValidationError('candidateIds must list each of the thread’s candidates exactly once', [
      { path: 'candidateIds', message: 'must list each of the thread’s candidates exactly once' },
    ])
  }

  /**
   * Locks the thread (FOR NO KEY UPDATE, as adding a candidate does; a delete of the thread waits)
   * and then its candidates in id order. An UPDATE of several rows locks them in the order it
   * finds them, which every update of a row changes: two such UPDATEs over the same candidates
   * (two reorders, a reorder and a category's delete) deadlocked. Throws NotFoundError.
   */
  private async lockCandidates(threadId: number): Promise<void> {
    const thread = await this.db.selectFrom('threads').select('id').where('id', '=', threadId).forNoKeyUpdate().executeTakeFirst()
    if (!thread) throw new NotFoundError('thread', threadId)
    await this.db.selectFrom('thread_candidates').select('id').where('thread_id', '=', threadId).orderBy('id').forNoKeyUpdate().execute()
  }

  private async exists(id: number): Promise<boolean> {
    return (await this.db.selectFrom('threads').select('id').where('id', '=', id).executeTakeFirst()) !== undefined
  }
}
