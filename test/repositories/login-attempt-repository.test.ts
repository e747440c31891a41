import { describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/types'
import { KyselyLoginAttemptRepository } from '../../src/repositories/login-attempt-repository'
import { onServerDatabase, serverUrl, useTestDatabase } from '../support/database'

const WINDOW = 900

/** Ten records of one username at once: each must see its own count, none may be lost. */
async function raceRecords(db: Kysely<DB>) {
  const repo = new KyselyLoginAttemptRepository(db)
  const counts = await Promise.all(Array.from({ length: 10 }, () => repo.record('owner', WINDOW)))
  expect(counts.map((c) => c.attempts).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  expect(await db.selectFrom('login_attempts').select(['username', 'attempts']).execute()).toEqual([{ username: 'owner', attempts: 10 }])
}

describe('LoginAttemptRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyLoginAttemptRepository(t.db)
  const rows = () => t.db.selectFrom('login_attempts').select(['username', 'attempts']).orderBy('username').execute()
  const startWindowAgo = (username: string, seconds: number) =>
    t.db
      .updateTable('login_attempts')
      .set({ window_started_at: new Date(Date.now() - seconds * 1000) })
      .where('username', '=', username)
      .execute()

  test('record counts attempts per username and says how long the window still runs', async () => {
    expect(await repo().record('owner', WINDOW)).toEqual({ attempts: 1, secondsLeft: WINDOW })
    expect((await repo().record('owner', WINDOW)).attempts).toBe(2)
    expect((await repo().record('other', WINDOW)).attempts).toBe(1)
    await startWindowAgo('owner', 300)
    const third = await repo().record('owner', WINDOW)
    expect(third.attempts).toBe(3)
    expect(third.secondsLeft).toBeGreaterThanOrEqual(599)
    expect(third.secondsLeft).toBeLessThanOrEqual(600)
    expect(await rows()).toEqual([
      { username: 'other', attempts: 1 },
      { username: 'owner', attempts: 3 },
    ])
  })

  test('a window that has ended starts over at 1 with a fresh window', async () => {
    await repo().record('owner', WINDOW)
    await repo().record('owner', WINDOW)
    await startWindowAgo('owner', WINDOW + 1)
    expect(await repo().record('owner', WINDOW)).toEqual({ attempts: 1, secondsLeft: WINDOW })
  })

  test('secondsLeft is at least 1 at the very end of a window', async () => {
    await repo().record('owner', WINDOW)
    await startWindowAgo('owner', WINDOW - 0.2)
    expect(await repo().record('owner', WINDOW)).toEqual({ attempts: 2, secondsLeft: 1 })
  })

  test('concurrent records each get their own count', () => raceRecords(t.db))

  test('clear forgets one username only', async () => {
    await repo().record('owner', WINDOW)
    await repo().record('other', WINDOW)
    await repo().clear('owner')
    await repo().clear('nobody')
    expect(await rows()).toEqual([{ username: 'other', attempts: 1 }])
  })

  test('deleteExpired removes only rows whose window ended', async () => {
    await repo().record('stale', WINDOW)
    await repo().record('fresh', WINDOW)
    await startWindowAgo('stale', WINDOW + 5)
    expect(await repo().deleteExpired(WINDOW)).toBe(1)
    expect(await rows()).toEqual([{ username: 'fresh', attempts: 1 }])
  })
})

// PGlite runs one statement at a time; only several server connections can interleave the upserts.
describe.if(serverUrl !== undefined)('LoginAttemptRepository on a PostgreSQL server', () => {
  test('concurrent records on separate connections each get their own count', () => onServerDatabase(raceRecords))
})
