import type { Kysely } from 'kysely'
import type { DB } from '../db/types'
import type { Setting } from '../domain/setting'

export interface SettingRepository {
  /** Every stored setting as a key -> value map, keys in sorted order. */
  all(): Promise<Record<string, string>>
  /** The stored value, or undefined when the key was never set. */
  get(key: string): Promise<string | undefined>
  /** Creates or overwrites the setting, in one statement. */
  set(key: string, value: string): Promise<Setting>
}

export class KyselySettingRepository implements SettingRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async all(): Promise<Record<string, string>> {
    const rows = await this.db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute()
    return Object.fromEntries(rows.map((r) => [r.key, r.value]))
  }

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst()
    return row?.value
  }

  async set(key: string, value: string): Promise<Setting> {
    return this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
      .returning(['key', 'value'])
      .executeTakeFirstOrThrow()
  }
}
