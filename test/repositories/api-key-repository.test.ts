import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError } from '../../src/errors'
import { KyselyApiKeyRepository } from '../../src/repositories/api-key-repository'
import { KyselyUserRepository } from '../../src/repositories/user-repository'
import { useTestDatabase } from '../support/database'
import { anyTimestamp } from '../support/timestamp'

describe('ApiKeyRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyApiKeyRepository(t.db)
  const user = (username: string) => new KyselyUserRepository(t.db).create({ username, passwordHash: 'h' })
  const key = (userId: number, name: string, hash = `hash-${name}`) => repo().create({ userId, name, keyHash: hash, keyPrefix: `gbx_${name}` })
  const setLastUsed = (id: number, msAgo: number) =>
    t.db
      .updateTable('api_keys')
      .set({ last_used_at: new Date(Date.now() - msAgo) })
      .where('id', '=', id)
      .execute()
  const lastUsed = async (id: number) => (await t.db.selectFrom('api_keys').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()).last_used_at

  test('create returns what the owner may see; listByUser lists only their keys, oldest first', async () => {
    const owner = await user('owner')
    const other = await user('other')
    const first = await key(owner.id, 'laptop')
    expect(first).toEqual({ id: 1, name: 'laptop', prefix: 'gbx_laptop', createdAt: anyTimestamp(), lastUsedAt: null })
    await key(other.id, 'theirs')
    await key(owner.id, 'backup')
    expect((await repo().listByUser(owner.id)).map((k) => k.name)).toEqual(['laptop', 'backup'])
    expect(await repo().listByUser(999)).toEqual([])
  })

  test('a missing user is a NotFoundError; a duplicate hash a ConflictError', async () => {
    const missing = await key(42, 'orphan').catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(NotFoundError)
    expect((missing as Error).message).toBe('user 42 not found')
    const owner = await user('owner')
    await key(owner.id, 'a', 'same')
    const duplicate = await key(owner.id, 'b', 'same').catch((e: unknown) => e)
    expect(duplicate).toBeInstanceOf(ConflictError)
    expect(duplicate).toMatchObject({ constraint: 'api_keys_key_hash_key' })
  })

  test('findByHash finds the owner of a key', async () => {
    const owner = await user('owner')
    await key(owner.id, 'laptop', 'abc')
    expect(await repo().findByHash('abc')).toEqual({ id: 1, userId: owner.id, lastUsedAt: null })
    expect(await repo().findByHash('nope')).toBeUndefined()
  })

  test('touch sets lastUsedAt, but not again within a minute', async () => {
    const owner = await user('owner')
    await key(owner.id, 'laptop')
    await repo().touch(1)
    expect(await lastUsed(1)).toBeInstanceOf(Date)
    await setLastUsed(1, 30_000)
    const recent = await lastUsed(1)
    await repo().touch(1)
    expect(await lastUsed(1)).toEqual(recent)
    await setLastUsed(1, 61_000)
    await repo().touch(1)
    expect(Date.now() - (await lastUsed(1))!.getTime()).toBeLessThan(5_000)
  })

  test("touch records the use of that key only, never another's, used or not", async () => {
    const owner = await user('owner')
    const other = await user('other')
    await key(owner.id, 'laptop')
    await key(other.id, 'long unused')
    await key(other.id, 'never used')
    await setLastUsed(2, 3_600_000)
    const before = await lastUsed(2)
    await repo().touch(1)
    expect(await lastUsed(1)).toBeInstanceOf(Date)
    expect({ longUnused: await lastUsed(2), neverUsed: await lastUsed(3) }).toEqual({ longUnused: before, neverUsed: null })
  })

  test('delete removes only a key of that user; otherwise NotFoundError', async () => {
    const owner = await user('owner')
    const other = await user('other')
    await key(owner.id, 'mine')
    await key(other.id, 'theirs')
    expect(
      await repo()
        .delete(other.id, 1)
        .catch((e: unknown) => e),
    ).toBeInstanceOf(NotFoundError)
    expect(
      await repo()
        .delete(owner.id, 99)
        .catch((e: unknown) => e),
    ).toBeInstanceOf(NotFoundError)
    await repo().delete(owner.id, 1)
    expect(await t.db.selectFrom('api_keys').select('name').execute()).toEqual([{ name: 'theirs' }])
  })
})
