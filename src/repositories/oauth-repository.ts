// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface OAuthRepository {}

export class KyselyOAuthRepository implements OAuthRepository {
  constructor(readonly db: Kysely<DB>) {}}
