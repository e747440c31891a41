import { type Kysely, type Selectable, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import { prepared } from '../db/prepared'
import type { ApiKeys, DB } from '../db/types'
import { type ApiKey, type ApiKeyOwner, TOUCH_INTERVAL_SECONDS } from '../domain/api-key'
import { toTimestamp } from '../domain/timestamp'
import { NotFoundError } from '../errors'
import { decodeCursor, epochMicros, fromEpochMicros, type Page, type PageRequest, toPage } from './paging'

export interface ApiKeyRepository {
  /** One statement. Throws NotFoundError when the user does not exist. */
  create(input: { userId: number; name: string; keyHash: string; keyPrefix: string }): Promise<ApiKey>
  /** The user's keys, oldest first. */
  listByUser(userId: number): Promise<ApiKey[]>
  /** One page of `listByUser` (see PageRequest). Throws ValidationError (path `query.cursor`) for a bad cursor. */
  listPageByUser(userId: number, page: PageRequest): Promise<Page<ApiKey>>
  findByHash(keyHash: string): Promise<ApiKeyOwner | undefined>
  /** One statement: sets last_used_at to now() unless it was set within TOUCH_INTERVAL_SECONDS (saves a write per request). */
  touch(id: number): Promise<void>
  /** One statement. Throws NotFoundError when the key does not exist or belongs to someone else. */
  delete(userId: number, id: number): Promise<void>
}

type KeyRow = Pick<Selectable<ApiKeys>, 'id' | 'name' | 'key_prefix' | 'created_at' | 'last_used_at'>
const publicColumns = ['id', 'name', 'key_prefix', 'created_at', 'last_used_at'] as const

const toApiKey = (row: KeyRow): ApiKey => ({
  id: row.id,
  name: row.name,
  prefix: row.key_prefix,
  createdAt: toTimestamp(row.created_at),
  lastUsedAt: row.last_used_at && toTimestamp(row.last_used_at),
})

const keyByHash = prepared((db, keyHash: string) => db.selectFrom('api_keys').select(['id', 'user_id', 'last_used_at']).where('key_hash', '=', keyHash))

export class KyselyApiKeyRepository implements ApiKeyRepository {
  constructor(readonly db: Kysely<DB>) {}

  async create(input: { userId: number; name: string; keyHash: string; keyPrefix: string }): Promise<ApiKey> {
    const row = await this.db
      .insertInto('api_keys')
      .values({ user_id: input.userId, name: input.name, key_hash: input.keyHash, key_prefix: input.keyPrefix })
      .returning(publicColumns)
      .executeTakeFirstOrThrow()
      .catch(onConstraint({ api_keys_user_id_fkey: () => new NotFoundError('user', input.userId) }))
    return toApiKey(row)
  }

  async listByUser(userId: number): Promise<ApiKey[]> {
    const rows = await this.listQuery(userId).execute()
    return rows.map(toApiKey)
  }

  async listPageByUser(userId: number, page: PageRequest): Promise<Page<ApiKey>> {
    let query = this.listQuery(userId)
    if (page.cursor) {
      const [createdAt, id] = decodeCursor(page.cursor, ['integer', 'id'])
      query = query.where(sql<boolean>`(created_at, id) > (${fromEpochMicros(createdAt)}, ${id})`)
    }
    const rows = await query
      .select(epochMicros('created_at').as('created_us'))
      .limit(page.limit + 1)
      .execute()
    return toPage(rows, page.limit, toApiKey, (row) => [row.created_us, row.id])
  }

  /** The user's keys in list order: oldest first (created_at, then id). */
  private listQuery(userId: number) {
    return this.db.selectFrom('api_keys').select(publicColumns).where('user_id', '=', userId).orderBy('created_at').orderBy('id')
  }

  async findByHash(keyHash: string): Promise<ApiKeyOwner | undefined> {
    const [row] = await keyByHash(this.db, keyHash)
    return row && { id: row.id, userId: row.user_id, lastUsedAt: row.last_used_at }
  }

  async touch(id: number): Promise<void> {
    await this.db
      .updateTable('api_keys')
      .set((eb) => ({ last_used_at: eb.fn('now') }))
      .where('id', '=', id)
      .where((eb) =>
        eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', sql<Date>`now() - make_interval(secs => ${sql.lit(TOUCH_INTERVAL_SECONDS)})`)]),
      )
      .execute()
  }

  async delete(userId: number, id: number): Promise<void> {
    const result = await this.db.deleteFrom('api_keys').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw new NotFoundError('api key', id)
  }
}
