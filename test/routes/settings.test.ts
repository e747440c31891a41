import { describe, expect, test } from 'bun:test'
import { errorPaths, useTestApp } from '../support/app'

describe('/api/settings', () => {
  const t = useTestApp()
  const put = (key: string, body: unknown) => t.call('PUT', `/api/settings/${key}`, body)

  async function expectRejected(key: string, body: unknown, path: string) {
    const res = await put(key, body)
    expect([key, res.status]).toEqual([key, 400])
    expect(res.body.error.code).toBe('validation_failed')
    expect(errorPaths(res)).toEqual([path])
  }

  test('GET is an empty object when nothing was set', async () => {
    expect(await t.call('GET', '/api/settings')).toMatchObject({ status: 200, body: {} })
  })

  test('PUT stores a value (200 {key, value}) and GET returns every setting as one object', async () => {
    expect(await put('weightUnit', { value: 'oz' })).toMatchObject({ status: 200, body: { key: 'weightUnit', value: 'oz' } })
    expect(await put('currency', { value: 'EUR' })).toMatchObject({ status: 200, body: { key: 'currency', value: 'EUR' } })
    expect(await put('theme', { value: 'dark' })).toMatchObject({ status: 200, body: { key: 'theme', value: 'dark' } })
    const res = await t.call('GET', '/api/settings')
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ currency: 'EUR', theme: 'dark', weightUnit: 'oz' })
  })

  test('PUT overwrites the value of a key', async () => {
    await put('weightUnit', { value: 'g' })
    expect((await put('weightUnit', { value: 'kg' })).status).toBe(200)
    expect((await t.call('GET', '/api/settings')).body).toEqual({ weightUnit: 'kg' })
  })

  test('weightUnit takes g, oz, lb or kg and nothing else', async () => {
    for (const value of ['g', 'oz', 'lb', 'kg']) {
      expect(await put('weightUnit', { value })).toMatchObject({ status: 200, body: { key: 'weightUnit', value } })
    }
    for (const value of ['G', 'stone', '', ' g']) await expectRejected('weightUnit', { value }, 'value')
    expect((await t.call('GET', '/api/settings')).body).toEqual({ weightUnit: 'kg' })
  })

  test('currency takes a real ISO 4217 code', async () => {
    for (const value of ['USD', 'EUR', 'JPY', 'CHF']) expect((await put('currency', { value })).status).toBe(200)
    for (const value of ['eur', 'EURO', 'XYZ', 'AB', '']) await expectRejected('currency', { value }, 'value')
    const res = await put('currency', { value: 'QQQ' })
    expect(res.body.error.details[0].message).toBe('currency must be an ISO 4217 currency code such as EUR or USD')
    expect((await t.call('GET', '/api/settings')).body).toEqual({ currency: 'CHF' })
  })

  test('other keys store any string up to 1000 characters under a key pattern', async () => {
    expect((await put('ui.sidebar-width_2', { value: '' })).status).toBe(200)
    expect((await put('k'.repeat(64), { value: 'x'.repeat(1000) })).status).toBe(200)
    expect((await put('note', { value: 'Zelt: 2 Personen, 1,2 kg ✓' })).status).toBe(200)
    await expectRejected('note', { value: 'x'.repeat(1001) }, 'value')
    // Characters are code points, as for every other string: an emoji is one (two UTF-16 units).
    expect((await put('emoji', { value: '😀'.repeat(1000) })).status).toBe(200)
    await expectRejected('emoji', { value: '😀'.repeat(1001) }, 'value')
    await expectRejected('k'.repeat(65), { value: 'x' }, 'param.key')
    for (const key of ['1abc', '_x', '-x', '.x', 'a%20b', 'a%2Fb', 'caf%C3%A9']) await expectRejected(key, { value: 'x' }, 'param.key')
    expect(Object.keys((await t.call('GET', '/api/settings')).body).sort()).toEqual(['emoji', 'k'.repeat(64), 'note', 'ui.sidebar-width_2'])
  })

  test('PUT checks the body: value is a required string, no other keys, JSON only', async () => {
    await expectRejected('theme', {}, 'value')
    await expectRejected('theme', { value: 3 }, 'value')
    await expectRejected('theme', { value: null }, 'value')
    await expectRejected('theme', { value: 'dark', key: 'theme' }, 'key')
    expect((await put('theme', 'dark')).status).toBe(400)
    expect((await put('theme', { value: 'a\u0000b' })).status).toBe(400)
    expect((await t.call('GET', '/api/settings')).body).toEqual({})
  })

  test('a PUT without a key, and other methods, find no route', async () => {
    expect((await t.call('PUT', '/api/settings', { value: 'x' })).status).toBe(404)
    expect((await t.call('DELETE', '/api/settings/theme')).status).toBe(404)
  })
})
