// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface ThreadRepository {}

export class KyselyThreadRepository implements ThreadRepository {
  constructor(readonly db: Kysely<DB>) {}}
