import { describe, expect, test } from 'bun:test'
import { repositoriesFor } from '../../src/repositories'
import { sha256, useTestApp } from '../support/app'

describe('API key routes', () => {
  const t = useTestApp()

  /** Calls the app with the owner's session cookie (key management needs one): status and body. */
  let cookie = ''
  const signIn = async () => void ({ cookie } = await t.signIn())
  async function asSession(method: string, path: string, body?: unknown) {
    const res = await t.call(method, path, body, {}, { cookie })
    return { status: res.status, body: res.body }
  }
  const testKey = () => t.auth.authorization!.slice('Bearer '.length)

  test('GET lists name, prefix and times, never the key or its hash', async () => {
    await signIn()
    const res = await asSession('GET', '/api/api-keys')
    expect(res).toEqual({
      status: 200,
      body: [{ id: 1, name: 'tests', prefix: testKey().slice(0, 12), createdAt: expect.any(String), lastUsedAt: null }],
    })
    expect(JSON.stringify(res.body)).not.toContain(testKey())
    expect(JSON.stringify(res.body)).not.toContain(sha256(testKey()))
  })

  test('POST answers 201 with the plaintext key once and stores only its hash', async () => {
    await signIn()
    const res = await asSession('POST', '/api/api-keys', { name: 'backup script' })
    expect(res).toEqual({
      status: 201,
      body: {
        id: 2,
        name: 'backup script',
        prefix: expect.any(String),
        key: expect.stringMatching(/^gbx_[A-Za-z0-9_-]{43}$/),
        createdAt: expect.any(String),
        lastUsedAt: null,
      },
    })
    const { key, prefix } = res.body as { key: string; prefix: string }
    expect(prefix).toBe(key.slice(0, 12))
    const row = await t.db.selectFrom('api_keys').selectAll().where('id', '=', 2).executeTakeFirstOrThrow()
    expect(row).toMatchObject({ user_id: t.ownerId, name: 'backup script', key_hash: sha256(key), key_prefix: prefix })
    expect(Object.values(row)).not.toContain(key)

    // The new key works, and is listed without its secret.
    const categories = await t.app.request('/api/categories', { headers: { authorization: `Bearer ${key}` } })
    expect(categories.status).toBe(200)
    const list = await asSession('GET', '/api/api-keys')
    expect(list.body.map((k: { name: string }) => k.name)).toEqual(['tests', 'backup script'])
    expect(JSON.stringify(list.body)).not.toContain(key)
  })

  test('using a key records lastUsedAt', async () => {
    await signIn()
    const before = Date.now()
    expect((await t.call('GET', '/api/categories')).status).toBe(200)
    const [listed] = (await asSession('GET', '/api/api-keys')).body as { lastUsedAt: string }[]
    expect(Date.parse(listed!.lastUsedAt)).toBeGreaterThanOrEqual(before - 1000)
  })

  test('DELETE revokes a key: 204, it stops working, and a second DELETE is a 404', async () => {
    await signIn()
    expect(await asSession('DELETE', '/api/api-keys/1')).toEqual({ status: 204, body: undefined })
    expect((await t.call('GET', '/api/categories')).status).toBe(401)
    expect(await t.db.selectFrom('api_keys').selectAll().execute()).toEqual([])
    const again = await asSession('DELETE', '/api/api-keys/1')
    expect(again.status).toBe(404)
    expect(again.body.error.code).toBe('not_found')
  })

  test("another user's key is a 404 and stays", async () => {
    const other = await repositoriesFor(t.db).users.create({ username: 'other', passwordHash: 'x' })
    const { id, key } = await t.services.auth.createApiKey(other.id, 'theirs')
    await signIn()
    expect((await asSession('DELETE', `/api/api-keys/${id}`)).status).toBe(404)
    expect((await asSession('GET', '/api/api-keys')).body.map((k: { id: number }) => k.id)).toEqual([1])
    expect((await t.app.request('/api/categories', { headers: { authorization: `Bearer ${key}` } })).status).toBe(200)
  })

  test('an API key cannot manage keys: 403 on every key route', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/api-keys', undefined],
      ['POST', '/api/api-keys', { name: 'minted by a key' }],
      ['DELETE', '/api/api-keys/1', undefined],
    ] as const) {
      const res = await t.call(method, path, body)
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('forbidden')
    }
    expect(await t.db.selectFrom('api_keys').select('name').execute()).toEqual([{ name: 'tests' }])
  })

  test.each([
    ['no name', {}],
    ['an empty name', { name: '' }],
    ['a blank name', { name: '  ' }],
    ['a 101-character name', { name: 'n'.repeat(101) }],
    ['an unknown key', { name: 'ok', expiresAt: '2030-01-01' }],
  ])('POST with %s is a 400', async (_, body) => {
    await signIn()
    const res = await asSession('POST', '/api/api-keys', body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(await t.db.selectFrom('api_keys').select('name').execute()).toEqual([{ name: 'tests' }])
  })

  test.each(['abc', '0', '-1', '1.5', '99999999999'])('DELETE /api/api-keys/%s is a 400', async (id) => {
    await signIn()
    expect((await asSession('DELETE', `/api/api-keys/${id}`)).status).toBe(400)
  })
})
