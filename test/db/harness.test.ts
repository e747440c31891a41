import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { useTestDatabase } from '../support/database'
import { tableNames } from '../support/schema'

describe('test database reset', () => {
  const t = useTestDatabase()
  let seedCreatedAt: Date | undefined

  test('a test may leave rows behind in every table, and change the seed', async () => {
    const db = t.db
    seedCreatedAt = (await db.selectFrom('categories').select('created_at').where('id', '=', 1).executeTakeFirstOrThrow()).created_at
    await db.updateTable('categories').set({ name: 'Renamed', icon: 'tent' }).where('id', '=', 1).execute()
    await db.insertInto('categories').values({ name: 'Shelter' }).execute()
    const item = await db.insertInto('items').values({ name: 'Tent', category_id: 2 }).returning('id').executeTakeFirstOrThrow()
    const thread = await db.insertInto('threads').values({ name: 'Stove', category_id: 2 }).returning('id').executeTakeFirstOrThrow()
    const candidate = await db
      .insertInto('thread_candidates')
      .values({ thread_id: thread.id, name: 'Pocket Rocket', category_id: 2 })
      .returning('id')
      .executeTakeFirstOrThrow()
    // threads and thread_candidates refer to each other: the reset must handle the cycle.
    await db.updateTable('threads').set({ status: 'resolved', resolved_candidate_id: candidate.id }).execute()
    const setup = await db.insertInto('setups').values({ name: 'Weekend' }).returning('id').executeTakeFirstOrThrow()
    await db.insertInto('setup_items').values({ setup_id: setup.id, item_id: item.id }).execute()
    const user = await db.insertInto('users').values({ username: 'ann', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
    const future = new Date('2030-01-01T00:00:00Z')
    await db.insertInto('sessions').values({ id: 's', user_id: user.id, expires_at: future }).execute()
    await db.insertInto('api_keys').values({ user_id: user.id, name: 'k', key_hash: 'h', key_prefix: 'p' }).execute()
    await db.insertInto('oauth_clients').values({ client_id: 'c', redirect_uris: sql`'[]'::jsonb` }).execute()
    await db
      .insertInto('oauth_codes')
      .values({ code_hash: 'h', client_id: 'c', user_id: user.id, redirect_uri: 'r', code_challenge: 'x', expires_at: future })
      .execute()
    await db.insertInto('oauth_tokens').values({ access_token_hash: 'a', client_id: 'c', user_id: user.id, expires_at: future }).execute()
    await db.insertInto('settings').values({ key: 'currency', value: 'EUR' }).execute()
  })

  test('the next test sees only the seed, exactly as migrated, and every id starts over', async () => {
    const db = t.db
    expect(await db.selectFrom('categories').selectAll().execute()).toEqual([{ id: 1, name: 'Uncategorized', icon: 'package', created_at: seedCreatedAt! }])
    for (const table_name of await tableNames(db)) {
      const { rows: count } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table_name)}`.execute(db)
      expect({ table: table_name, rows: count[0]!.n }).toEqual({ table: table_name, rows: table_name === 'categories' ? 1 : 0 })
    }
    expect((await db.insertInto('categories').values({ name: 'Sleep' }).returning('id').executeTakeFirstOrThrow()).id).toBe(2)
    expect((await db.insertInto('items').values({ name: 'Quilt', category_id: 2 }).returning('id').executeTakeFirstOrThrow()).id).toBe(1)
    expect((await db.insertInto('users').values({ username: 'bo', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()).id).toBe(1)
    expect((await db.insertInto('setups').values({ name: 'Trip' }).returning('id').executeTakeFirstOrThrow()).id).toBe(1)
    expect((await db.insertInto('threads').values({ name: 'T', category_id: 1 }).returning('id').executeTakeFirstOrThrow()).id).toBe(1)
  })
})
