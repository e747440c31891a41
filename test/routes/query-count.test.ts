import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/app'
import { repositoriesFor } from '../../src/repositories'
import { STREAM_CHUNK } from '../../src/routes/lists'
import { createServices } from '../../src/services'
import { countingQueries, unreachableDatabase, useTestDatabase } from '../support/database'

// issue 13: the queries a request sends stay fixed (1-3) whatever the size of what it reads;
// only a whole list without `limit` grows, by one query per STREAM_CHUNK rows.
describe('queries per request', () => {
  const t = useTestDatabase()

  /** The app over a query-counting database, an API key, `items` items and a setup holding `inSetup` of them. */
  async function appWith(items: number, inSetup: number) {
    const counting = countingQueries(t.db)
    const services = createServices(counting.db, { uploadDir: '/nonexistent' })
    const app = createApp({ services })
    const user = await repositoriesFor(t.db).users.create({ username: `owner${items}`, passwordHash: 'not used' })
    const { key } = await services.auth.createApiKey(user.id, 'tests')
    const categoryId = (
      await t.db
        .insertInto('categories')
        .values({ name: `Shelter ${items}` })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const ids = items
      ? (
          await t.db
            .insertInto('items')
            .values(Array.from({ length: items }, (_, i) => ({ name: `Item ${i}`, category_id: i % 2 ? categoryId : 1, weight_grams: i })))
            .returning('id')
            .execute()
        ).map((r) => r.id)
      : []
    const setupId = (await t.db.insertInto('setups').values({ name: 'Trip' }).returning('id').executeTakeFirstOrThrow()).id
    if (inSetup)
      await t.db
        .insertInto('setup_items')
        .values(ids.slice(0, inSetup).map((item_id) => ({ setup_id: setupId, item_id })))
        .execute()
    const headers = { authorization: `Bearer ${key}` }
    /** The queries one GET sends, once the key's last-used time is fresh (that UPDATE runs at most once a minute). */
    async function queriesOf(path: string): Promise<number> {
      await app.request('/api/categories', { headers })
      const before = counting.queries
      const res = await app.request(path, { headers })
      expect({ path, status: res.status }).toEqual({ path, status: 200 })
      await res.arrayBuffer()
      return counting.queries - before
    }
    return { queriesOf, setupId }
  }

  test('one item, a page of items, a setup and the categories: the same few queries with 10 items as with 2,000 more', async () => {
    const counts = async (items: number) => {
      const { queriesOf, setupId } = await appWith(items, Math.min(items, 100))
      return {
        item: await queriesOf('/api/items/1'),
        page: await queriesOf('/api/items?limit=1000'),
        setup: await queriesOf(`/api/setups/${setupId}`),
        categories: await queriesOf('/api/categories'),
      }
    }
    const small = await counts(10)
    // The API-key lookup and one statement each (a setup's items and totals are subqueries of it).
    expect(small).toEqual({ item: 2, page: 2, setup: 2, categories: 2 })
    expect(await counts(2_000)).toEqual(small)
  })

  test('a whole list without `limit`: the key lookup, the first chunk, then one query per STREAM_CHUNK rows in one snapshot', async () => {
    const { queriesOf } = await appWith(2_000, 0)
    // The snapshot's BEGIN and COMMIT are no queries Kysely logs.
    expect(await queriesOf('/api/items')).toBe(2 + Math.ceil(2_000 / STREAM_CHUNK))
    expect(await queriesOf('/api/items?q=Item%201999')).toBe(2)
  })
})

// issue 13: routing is part of every request's cost. Hono's SmartRouter takes the RegExpRouter
// (one regular expression for every route) unless a route's pattern is one it refuses (a
// regular expression with alternatives in a path, say); then every request goes through the
// slower TrieRouter.
test("every route fits Hono's RegExpRouter", async () => {
  const app = createApp({ services: createServices(unreachableDatabase(), { uploadDir: '/nonexistent' }) })
  await app.request('/no-such-route')
  expect((app.router as { name: string }).name).toBe('SmartRouter + RegExpRouter')
})
