// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface ApiKeyRepository {}

export class KyselyApiKeyRepository implements ApiKeyRepository {
  constructor(readonly db: Kysely<DB>) {}}
