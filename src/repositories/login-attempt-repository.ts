// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface LoginAttemptRepository {}

export class KyselyLoginAttemptRepository implements LoginAttemptRepository {
  constructor(readonly db: Kysely<DB>) {}}
