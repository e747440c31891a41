// PLACEHOLDER: replaced by the real repository.
import type { Kysely } from 'kysely'
import type { DB } from '../db/types'

export interface SettingRepository {}

export class KyselySettingRepository implements SettingRepository {
  constructor(readonly db: Kysely<DB>) {}}
