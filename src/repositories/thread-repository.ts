import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface ThreadRepository {
  /** Moves every thread and every candidate of `fromCategoryId` to `toCategoryId`. Throws ConflictError if `toCategoryId` does not exist. */
  reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<void>
}

export class KyselyThreadRepository implements ThreadRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<void> {
    // Two statements; callers run this inside their unit of work so both move together.
    await this.db
      .updateTable('threads')
      .set({ category_id: toCategoryId, updated_at: new Date() })
      .where('category_id', '=', fromCategoryId)
      .execute()
    await this.db
      .updateTable('thread_candidates')
      .set({ category_id: toCategoryId, updated_at: new Date() })
      .where('category_id', '=', fromCategoryId)
      .execute()
  }
}
