import { describe, expect, test } from 'bun:test'
import { ConflictError, NotFoundError } from '../../src/errors'
import { KyselySessionRepository } from '../../src/repositories/session-repository'
import { KyselyUserRepository } from '../../src/repositories/user-repository'
import { useTestDatabase } from '../support/database'

const HOUR = 60 * 60 * 1000

describe('SessionRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselySessionRepository(t.db)
  const owner = () => new KyselyUserRepository(t.db).create({ username: 'owner', passwordHash: 'h' })

  test('create and find round-trip the session', async () => {
    const { id: userId } = await owner()
    const expiresAt = new Date(Date.now() + HOUR)
    const session = { id: 'a'.repeat(64), userId, expiresAt }
    expect(await repo().create(session)).toEqual(session)
    expect(await repo().find('a'.repeat(64))).toEqual(session)
    expect(await repo().find('b'.repeat(64))).toBeUndefined()
  })

  test('find returns an expired session too; judging expiry is the caller’s job', async () => {
    const { id: userId } = await owner()
    const expiresAt = new Date(Date.now() - HOUR)
    await repo().create({ id: 'old', userId, expiresAt })
    expect(await repo().find('old')).toEqual({ id: 'old', userId, expiresAt })
  })

  test('a missing user is a NotFoundError', async () => {
    const error = await repo()
      .create({ id: 'x', userId: 42, expiresAt: new Date(Date.now() + HOUR) })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as Error).message).toBe('user 42 not found')
  })

  test('a duplicate id is a ConflictError', async () => {
    const { id: userId } = await owner()
    await repo().create({ id: 'same', userId, expiresAt: new Date(Date.now() + HOUR) })
    const error = await repo()
      .create({ id: 'same', userId, expiresAt: new Date(Date.now() + HOUR) })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ constraint: 'sessions_pkey' })
  })

  test('delete removes one session and ignores a missing one', async () => {
    const { id: userId } = await owner()
    await repo().create({ id: 'one', userId, expiresAt: new Date(Date.now() + HOUR) })
    await repo().create({ id: 'two', userId, expiresAt: new Date(Date.now() + HOUR) })
    await repo().delete('one')
    await repo().delete('one')
    expect((await t.db.selectFrom('sessions').select('id').execute()).map((r) => r.id)).toEqual(['two'])
  })

  test('deleteExpired removes only expired sessions and says how many', async () => {
    const { id: userId } = await owner()
    await repo().create({ id: 'expired', userId, expiresAt: new Date(Date.now() - 1000) })
    await repo().create({ id: 'older', userId, expiresAt: new Date(Date.now() - HOUR) })
    await repo().create({ id: 'valid', userId, expiresAt: new Date(Date.now() + HOUR) })
    expect(await repo().deleteExpired()).toBe(2)
    expect((await t.db.selectFrom('sessions').select('id').execute()).map((r) => r.id)).toEqual(['valid'])
  })

  test('sessions go with their user', async () => {
    const { id: userId } = await owner()
    await repo().create({ id: 's', userId, expiresAt: new Date(Date.now() + HOUR) })
    await t.db.deleteFrom('users').execute()
    expect(await repo().find('s')).toBeUndefined()
  })
})
