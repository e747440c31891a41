import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import { NO_MIGRATIONS } from 'kysely'
import { createMigrator, migrateToLatest, pendingMigrations } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
import { openEmptyDatabase } from '../support/database'
import { migrationNames, schemaFingerprint, tableNames } from '../support/schema'

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
    expect(await schemaFingerprint(db)).toEqual({ columns: [], constraints: [], indexes: [] })
    expect(await pendingMigrations(db)).toEqual(migrationNames)

    await migrateToLatest(db)
    expect(await schemaFingerprint(db)).toEqual(latest)
    expect(await db.selectFrom('categories').select(['id', 'name', 'icon']).execute()).toEqual([
      { id: 1, name: 'Uncategorized', icon: 'package' },
    ])
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
