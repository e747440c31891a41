import { describe, expect, test } from 'bun:test'
import { ConflictError } from '../../src/errors'
import { TransactionRequiredError } from '../../src/repositories/transaction'
import { KyselyUserRepository } from '../../src/repositories/user-repository'
import { onServerDatabase, serverUrl, useTestDatabase } from '../support/database'
import { rejection } from '../support/failures'
import { anyTimestamp } from '../support/timestamp'

describe('UserRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyUserRepository(t.db)

  test('create returns the user without its hash; findById and findCredentials read it back', async () => {
    const user = await repo().create({ username: 'owner', passwordHash: '$argon2id$hash' })
    expect(user).toEqual({ id: 1, username: 'owner', createdAt: anyTimestamp() })
    expect(await repo().findById(1)).toEqual(user)
    expect(await repo().findCredentials('owner')).toEqual({ ...user, passwordHash: '$argon2id$hash' })
  })

  test('unknown ids and names are undefined; names are case-sensitive', async () => {
    await repo().create({ username: 'owner', passwordHash: 'h' })
    expect(await repo().findById(2)).toBeUndefined()
    expect(await repo().findCredentials('Owner')).toBeUndefined()
    expect(await repo().findCredentials('nobody')).toBeUndefined()
  })

  test('a taken username is a ConflictError naming the constraint', async () => {
    await repo().create({ username: 'owner', passwordHash: 'h' })
    const error = await repo()
      .create({ username: 'owner', passwordHash: 'other' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect(error).toMatchObject({ message: 'username is taken', constraint: 'users_username_key' })
    expect(await repo().count()).toBe(1)
  })

  test('lockForFirstUser refuses to run outside a transaction', async () => {
    expect(await rejection(repo().lockForFirstUser())).toBeInstanceOf(TransactionRequiredError)
  })

  test('count counts users', async () => {
    expect(await repo().count()).toBe(0)
    await repo().create({ username: 'a', passwordHash: 'h' })
    await repo().create({ username: 'b', passwordHash: 'h' })
    expect(await repo().count()).toBe(2)
  })
})

// On PGlite one connection runs one transaction at a time, so the second would wait with no
// lock at all; only several server connections show what the lock does.
describe.if(serverUrl !== undefined)('UserRepository on a PostgreSQL server', () => {
  test('lockForFirstUser makes a second transaction wait until the first one committed', () =>
    onServerDatabase(async (db) => {
      const events: string[] = []
      const firstLocked = Promise.withResolvers<void>()
      const releaseFirst = Promise.withResolvers<void>()
      const first = db.transaction().execute(async (trx) => {
        const users = new KyselyUserRepository(trx)
        await users.lockForFirstUser()
        firstLocked.resolve()
        await releaseFirst.promise
        await users.create({ username: 'first', passwordHash: 'h' })
        events.push('first created')
      })
      await firstLocked.promise
      const second = db.transaction().execute(async (trx) => {
        const users = new KyselyUserRepository(trx)
        await users.lockForFirstUser()
        events.push(`second sees ${await users.count()}`)
      })
      await Bun.sleep(100)
      events.push('first released')
      releaseFirst.resolve()
      await Promise.all([first, second])
      expect(events).toEqual(['first released', 'first created', 'second sees 1'])
    }))
})
