import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import { NO_MIGRATIONS } from 'kysely'
import { createMigrator, migrateToLatest, pendingMigrations } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
import { openEmptyDatabase } from '../support/database'
import { migrationNames, schemaFingerprint, tableNames } from '../support/schema'

describe('migration file names', () => {
  // Kysely applies migrations in name order and refuses one that sorts before an applied one;
  // a name dated in the future makes every `migrate:make` until then sort before it.
  test('are YYYYMMDDHHMMSS_verb_noun, unique, and none is dated in the future', () => {
    const now = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
    for (const name of migrationNames) {
      expect(name).toMatch(/^\d{14}_[a-z0-9_]+$/)
      expect(name.slice(0, 14) <= now).toBe(true)
    }
    expect(new Set(migrationNames.map((n) => n.slice(0, 14))).size).toBe(migrationNames.length)
  })
})

// A database of its own: the round trip drops every table, which the shared per-file one must keep.
describe('migrations round trip: latest -> zero -> latest', () => {
  let db: Kysely<DB>
  let close: () => Promise<void>
  beforeAll(async () => {
    ;({ db, close } = await openEmptyDatabase())
  })
  afterAll(() => close?.())

  test('down then up restores exactly the same schema and seed', async () => {
    await migrateToLatest(db)
    expect(await pendingMigrations(db)).toEqual([])
    const latest = await schemaFingerprint(db)
    expect(latest.columns.length).toBeGreaterThan(0)

    // One step at a time, so every `down` runs on the schema its own `up` left behind.
    const migrator = createMigrator(db)
    for (const name of [...migrationNames].reverse()) {
      const { error, results } = await migrator.migrateDown()
      expect(error).toBeUndefined()
      expect(results).toEqual([{ migrationName: name, direction: 'Down', status: 'Success' }])
    }
    expect(await tableNames(db)).toEqual([])
    expect(await schemaFingerprint(db)).toEqual({ columns: [], constraints: [], indexes: [], behaviour: [] })
    expect(await pendingMigrations(db)).toEqual(migrationNames)

    await migrateToLatest(db)
    expect(await schemaFingerprint(db)).toEqual(latest)
    expect(await db.selectFrom('categories').select(['id', 'name', 'icon']).execute()).toEqual([{ id: 1, name: 'Uncategorized', icon: 'package' }])
    // The identity sequence was moved past the seed again: the next category is 2.
    const { id } = await db.insertInto('categories').values({ name: 'Shelter' }).returning('id').executeTakeFirstOrThrow()
    expect(id).toBe(2)
  }, 60_000)

  test('migrateTo(NO_MIGRATIONS) undoes everything in one call, and latest brings it back', async () => {
    const before = await schemaFingerprint(db)
    const { error, results } = await createMigrator(db).migrateTo(NO_MIGRATIONS)
    expect(error).toBeUndefined()
    expect(results?.map((r) => r.migrationName)).toEqual([...migrationNames].reverse())
    expect(await tableNames(db)).toEqual([])
    await migrateToLatest(db)
    expect(await schemaFingerprint(db)).toEqual(before)
    expect(await db.selectFrom('categories').select(['id', 'name']).execute()).toEqual([{ id: 1, name: 'Uncategorized' }])
  }, 60_000)
})

describe('20261130220100_add_gear_bounds', () => {
  let db: Kysely<DB>
  let close: () => Promise<void>
  beforeAll(async () => {
    ;({ db, close } = await openEmptyDatabase())
  })
  afterAll(() => close?.())

  test('refuses while rows exceed the bounds, names them, and changes nothing; then applies', async () => {
    const { error } = await createMigrator(db).migrateTo('20261122051100_create_login_attempts')
    expect(error).toBeUndefined()
    const items = [
      { name: 'ok', category_id: 1, weight_grams: 1_000_000, price_cents: 9_000_000, quantity: 1000 },
      { name: 'heavy', category_id: 1, weight_grams: 1e308, price_cents: null, quantity: 1 },
      { name: 'dear', category_id: 1, weight_grams: null, price_cents: 2_147_483_647, quantity: 2_147_483_647 },
    ]
    await db.insertInto('items').values(items).execute()
    const thread = await db.insertInto('threads').values({ name: 't', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    await db.insertInto('thread_candidates').values({ thread_id: thread.id, name: 'c', category_id: 1, price_cents: 9_000_001 }).execute()
    const rows = () => db.selectFrom('items').select(['id', 'weight_grams', 'price_cents', 'quantity']).orderBy('id').execute()
    const before = await rows()

    const refused = await migrateToLatest(db).catch((e: Error) => e)
    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toContain('20261130220100_add_gear_bounds')
    expect((refused as Error).message).toContain(
      'items 2 (weight_grams above 1000000); items 3 (price_cents above 9000000); items 3 (quantity above 1000); thread_candidates 1 (price_cents above 9000000)',
    )
    expect(await rows()).toEqual(before)
    expect(await pendingMigrations(db)).toContain('20261130220100_add_gear_bounds')

    await db.updateTable('items').set({ weight_grams: 1_000_000, price_cents: 9_000_000, quantity: 1000 }).where('id', '>', 1).execute()
    await db.updateTable('thread_candidates').set({ price_cents: 9_000_000 }).execute()
    await migrateToLatest(db)
    expect(await pendingMigrations(db)).toEqual([])
  }, 60_000)
})
