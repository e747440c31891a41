import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { ConflictError, UnavailableError, ValidationError } from '../../src/errors'
import { unreachableDatabase, useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'

describe('PostgreSQL errors become domain errors', () => {
  const t = useTestDatabase()

  test('23505 unique violation -> ConflictError naming the constraint', async () => {
    const error = await rejection(t.db.insertInto('categories').values({ name: 'Uncategorized' }).execute())
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ constraint: 'categories_name_key', message: 'already exists (categories_name_key)' })
  })

  test('23503 on insert (missing parent) -> ConflictError naming the foreign key', async () => {
    const error = await rejection(t.db.insertInto('items').values({ name: 'Tent', category_id: 999 }).execute())
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ constraint: 'items_category_id_fkey' })
    expect((error as Error).message).toContain('(items_category_id_fkey)')
  })

  test('23503 on delete (still referenced) -> ConflictError naming the foreign key', async () => {
    await t.db.insertInto('threads').values({ name: 'Stove', category_id: 1 }).execute()
    const error = await rejection(t.db.deleteFrom('categories').where('id', '=', 1).execute())
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ constraint: 'threads_category_id_fkey' })
  })

  test('23514 check violation -> ValidationError naming the constraint', async () => {
    const error = await rejection(t.db.insertInto('items').values({ name: 'Tent', category_id: 1, quantity: 0 }).execute())
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({
      message: 'value not allowed (items_quantity_check)',
      details: [{ path: 'items_quantity_check', message: 'violates check constraint' }],
    })
  })

  test('23502 not-null violation -> ValidationError naming the column', async () => {
    const error = await rejection(t.db.insertInto('items').values({ name: sql<string>`null`, category_id: 1 }).execute())
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ message: 'name must not be null', details: [{ path: 'name', message: 'required' }] })
  })

  test('22P02 invalid text for a type -> ValidationError', async () => {
    const error = await rejection(sql`select ${'twelve'}::integer`.execute(t.db))
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ message: 'invalid value for its type' })
  })

  test('22003 number out of range -> ValidationError', async () => {
    const error = await rejection(
      t.db
        .insertInto('items')
        .values({ name: 'Tent', category_id: 1, price_cents: 2 ** 31 })
        .execute(),
    )
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ message: 'number out of range' })
  })

  test('22021 NUL character in text -> ValidationError', async () => {
    const error = await rejection(t.db.insertInto('categories').values({ name: 'a\u0000b' }).execute())
    expect(error).toBeInstanceOf(ValidationError)
    expect(error).toMatchObject({ message: 'text must not contain NUL characters' })
  })

  test('2200H an id sequence at its maximum -> ConflictError, the table having used every id', async () => {
    await sql`select setval(pg_get_serial_sequence('setups', 'id'), 2147483647)`.execute(t.db)
    const error = await rejection(t.db.insertInto('setups').values({ name: 'one too many' }).execute())
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ message: 'no id is left for a new row: its table has used every id up to 2147483647' })
  })

  test('messages carry no SQL or driver text', async () => {
    const error = await rejection(t.db.insertInto('categories').values({ name: 'Uncategorized' }).execute())
    expect((error as Error).message).not.toMatch(/insert|duplicate key|categories"/i)
  })

  test('errors inside a transaction are translated too, and the transaction rolls back', async () => {
    const error = await rejection(
      t.db.transaction().execute(async (trx) => {
        await trx.insertInto('categories').values({ name: 'Shelter' }).execute()
        await trx.insertInto('categories').values({ name: 'Shelter' }).execute()
      }),
    )
    expect(error).toMatchObject({ constraint: 'categories_name_key' })
    expect(error).toBeInstanceOf(ConflictError)
    expect(await t.db.selectFrom('categories').select('name').execute()).toEqual([{ name: 'Uncategorized' }])
  })
})

describe('an unreachable server', () => {
  test('connection refused -> UnavailableError', async () => {
    const db = unreachableDatabase()
    try {
      const error = await rejection(db.selectFrom('categories').selectAll().execute())
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as Error).message).toBe('database unavailable')
    } finally {
      await db.destroy()
    }
  })
})
