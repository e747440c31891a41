// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface CategoryRepository {}

export class KyselyCategoryRepository implements CategoryRepository {
  constructor(readonly db: Kysely<DB>) {}}
