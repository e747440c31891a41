// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface SessionRepository {}

export class KyselySessionRepository implements SessionRepository {
  constructor(readonly db: Kysely<DB>) {}}
