// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface SetupRepository {}

export class KyselySetupRepository implements SetupRepository {
  constructor(readonly db: Kysely<DB>) {}}
