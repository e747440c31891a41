import { describe, expect, test } from 'bun:test'
import { ValidationError } from '../../src/errors'
import { KyselySettingRepository } from '../../src/repositories/setting-repository'
import { useTestDatabase } from '../support/database'

describe('KyselySettingRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselySettingRepository(t.db)

  test('all is an empty object when nothing was set', async () => {
    expect(await repo().all()).toEqual({})
  })

  test('set stores a setting and returns it; all maps every key to its value in key order', async () => {
    expect(await repo().set('weightUnit', 'oz')).toEqual({ key: 'weightUnit', value: 'oz' })
    await repo().set('currency', 'EUR')
    const all = await repo().all()
    expect(all).toEqual({ currency: 'EUR', weightUnit: 'oz' })
    expect(Object.keys(all)).toEqual(['currency', 'weightUnit'])
  })

  test('set overwrites an existing value without adding a row', async () => {
    await repo().set('currency', 'EUR')
    expect(await repo().set('currency', 'CHF')).toEqual({ key: 'currency', value: 'CHF' })
    expect(await t.db.selectFrom('settings').selectAll().execute()).toEqual([{ key: 'currency', value: 'CHF' }])
  })

  test('get returns the value, or undefined for a key never set', async () => {
    await repo().set('theme', 'dark')
    expect(await repo().get('theme')).toBe('dark')
    expect(await repo().get('missing')).toBeUndefined()
  })

  test('keys that look like Object.prototype members are plain entries', async () => {
    await repo().set('constructor', 'x')
    expect(Object.entries(await repo().all())).toEqual([['constructor', 'x']])
  })

  test('a NUL character, which PostgreSQL text cannot hold, is a ValidationError', async () => {
    await expect(repo().set('note', 'a\u0000b')).rejects.toThrow(ValidationError)
  })
})
