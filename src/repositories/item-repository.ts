// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface ItemRepository {}

export class KyselyItemRepository implements ItemRepository {
  constructor(readonly db: Kysely<DB>) {}}
