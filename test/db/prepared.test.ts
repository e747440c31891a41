import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { prepared } from '../../src/db/prepared'
import { useTestDatabase } from '../support/database'

describe('prepared: a query compiled once, run with new arguments', () => {
  const t = useTestDatabase()

  test('each run gets its own arguments, including one used twice and a constant kept as written; the builder runs once', async () => {
    await t.db
      .insertInto('categories')
      .values([{ name: 'Shelter' }, { name: 'Sleep' }, { name: 'Kitchen' }])
      .execute()
    let builds = 0
    const named = prepared((db, first: string, second: string) => {
      builds++
      return db
        .selectFrom('categories')
        .select('name')
        .where((eb) => eb.or([eb('name', '=', first), eb('name', '=', second), eb('name', '=', 'Kitchen'), eb(sql`lower(name)`, '=', sql`lower(${first})`)]))
        .orderBy('name')
    })
    expect(await named(t.db, 'Shelter', 'Sleep')).toEqual([{ name: 'Kitchen' }, { name: 'Shelter' }, { name: 'Sleep' }])
    expect(await named(t.db, 'Sleep', 'nothing')).toEqual([{ name: 'Kitchen' }, { name: 'Sleep' }])
    expect(await named(t.db, 'nothing', 'nothing')).toEqual([{ name: 'Kitchen' }])
    expect(builds).toBe(1)
  })

  test('runs in a transaction it is given, and sees that transaction’s own rows', async () => {
    const byName = prepared((db, name: string) => db.selectFrom('categories').select('id').where('name', '=', name))
    expect(await byName(t.db, 'Water')).toEqual([])
    await t.db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('categories').values({ name: 'Water' }).returning('id').executeTakeFirstOrThrow()
      expect(await byName(trx, 'Water')).toEqual([{ id }])
    })
  })

  test('a plain-object argument stands for its properties: an insert of a whole row, with other values each run', async () => {
    const insert = prepared((db, row: { key: string; value: string }) => db.insertInto('settings').values(row).returning(['key', 'value']))
    expect(await insert(t.db, { key: 'units', value: 'metric' })).toEqual([{ key: 'units', value: 'metric' }])
    expect(await insert(t.db, { value: 'EUR', key: 'currency' })).toEqual([{ key: 'currency', value: 'EUR' }])
    expect(await t.db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute()).toEqual([
      { key: 'currency', value: 'EUR' },
      { key: 'units', value: 'metric' },
    ])
    // A key the first run had is missing: refused before anything is sent.
    await expect(insert(t.db, { key: 'theme' } as { key: string; value: string })).rejects.toThrow('prepared query: argument 0.value is undefined')
    // One more key than the first run had would be left out silently: refused too.
    await expect(insert(t.db, { key: 'theme', value: 'dark', extra: 'x' } as { key: string; value: string })).rejects.toThrow(
      'prepared query: argument 0 has keys the first run did not have; they would be left out',
    )
    expect(await t.db.selectFrom('settings').select('key').where('key', '=', 'theme').execute()).toEqual([])
  })

  test('a builder that does not pass an argument into the SQL as a value is refused on the first run, naming it', async () => {
    // Inspecting the argument (here: choosing a constant by it) would freeze the first run's choice.
    const inspecting = prepared((db, name: string) =>
      db
        .selectFrom('categories')
        .select('id')
        .where('name', '=', name ? 'Shelter' : 'Sleep'),
    )
    await expect(inspecting(t.db, 'x')).rejects.toThrow('prepared query: argument 0 is not a parameter of select "id" from "categories" where "name" = $1')
  })
})
