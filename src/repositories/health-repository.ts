// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface HealthRepository {}

export class KyselyHealthRepository implements HealthRepository {
  constructor(readonly db: Kysely<DB>) {}}
