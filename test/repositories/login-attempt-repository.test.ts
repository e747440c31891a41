import { describe, expect, test } from 'bun:test'
import type { Kysely } from 'kysely'
import type { DB } from '../../src/db/types'
import { KyselyLoginAttemptRepository } from '../../src/repositories/login-attempt-repository'
import { onServerDatabase, serverUrl, useTestDatabase } from '../support/database'

const WINDOW = 900
const HERE = '192.0.2.1'
const THERE = '2001:db8::7'

/** Ten records of one username at once: each must see its own count, none may be lost. */
async function raceRecords(db: Kysely<DB>) {
  const repo = new KyselyLoginAttemptRepository(db)
  const counts = await Promise.all(Array.from({ length: 10 }, () => repo.record('owner', HERE, WINDOW)))
  expect(counts.map((c) => c.attempts).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  expect(await db.selectFrom('login_attempts').select(['username', 'client_address', 'attempts']).execute()).toEqual([
    { username: 'owner', client_address: HERE, attempts: 10 },
  ])
}

describe('LoginAttemptRepository', () => {
  const t = useTestDatabase()
  const repo = () => new KyselyLoginAttemptRepository(t.db)
  const rows = () =>
    t.db.selectFrom('login_attempts').select(['username', 'client_address', 'attempts']).orderBy('username').orderBy('client_address').execute()
  const startWindowAgo = (username: string, seconds: number) =>
    t.db
      .updateTable('login_attempts')
      .set({ window_started_at: new Date(Date.now() - seconds * 1000) })
      .where('username', '=', username)
      .execute()

  test('record counts attempts per username and address, and says how long the window still runs', async () => {
    expect(await repo().record('owner', HERE, WINDOW)).toEqual({ attempts: 1, secondsLeft: WINDOW })
    expect((await repo().record('owner', HERE, WINDOW)).attempts).toBe(2)
    expect((await repo().record('other', HERE, WINDOW)).attempts).toBe(1)
    expect((await repo().record('owner', THERE, WINDOW)).attempts).toBe(1)
    await startWindowAgo('owner', 300)
    const third = await repo().record('owner', HERE, WINDOW)
    expect(third.attempts).toBe(3)
    expect(third.secondsLeft).toBeGreaterThanOrEqual(599)
    expect(third.secondsLeft).toBeLessThanOrEqual(600)
    expect(await rows()).toEqual([
      { username: 'other', client_address: HERE, attempts: 1 },
      { username: 'owner', client_address: HERE, attempts: 3 },
      { username: 'owner', client_address: THERE, attempts: 1 },
    ])
  })

  test('a window that has ended starts over at 1 with a fresh window; attempts inside one never extend it', async () => {
    await repo().record('owner', HERE, WINDOW)
    await startWindowAgo('owner', 600)
    for (let i = 0; i < 20; i++) expect((await repo().record('owner', HERE, WINDOW)).secondsLeft).toBeLessThanOrEqual(300)
    await startWindowAgo('owner', WINDOW + 1)
    expect(await repo().record('owner', HERE, WINDOW)).toEqual({ attempts: 1, secondsLeft: WINDOW })
  })

  test('secondsLeft is at least 1 at the very end of a window', async () => {
    await repo().record('owner', HERE, WINDOW)
    await startWindowAgo('owner', WINDOW - 0.2)
    expect(await repo().record('owner', HERE, WINDOW)).toEqual({ attempts: 2, secondsLeft: 1 })
  })

  test('concurrent records each get their own count', () => raceRecords(t.db))

  test('clear forgets one username at one address only', async () => {
    await repo().record('owner', HERE, WINDOW)
    await repo().record('owner', THERE, WINDOW)
    await repo().record('other', HERE, WINDOW)
    await repo().clear('owner', HERE)
    await repo().clear('nobody', HERE)
    expect(await rows()).toEqual([
      { username: 'other', client_address: HERE, attempts: 1 },
      { username: 'owner', client_address: THERE, attempts: 1 },
    ])
  })

  test('prune removes rows whose window ended', async () => {
    await repo().record('stale', HERE, WINDOW)
    await repo().record('fresh', HERE, WINDOW)
    await startWindowAgo('stale', WINDOW + 5)
    expect(await repo().prune(WINDOW, 100)).toBe(1)
    expect(await rows()).toEqual([{ username: 'fresh', client_address: HERE, attempts: 1 }])
  })

  test('prune caps the rows, keeping those with the most attempts, then the newest', async () => {
    for (let i = 0; i < 3; i++) await repo().record('guessed', HERE, WINDOW)
    for (let i = 0; i < 10; i++) {
      await repo().record(`name${i}`, HERE, WINDOW)
      await startWindowAgo(`name${i}`, 100 - i)
    }
    expect(await repo().prune(WINDOW, 4)).toBe(7)
    expect((await rows()).map((r) => r.username)).toEqual(['guessed', 'name7', 'name8', 'name9'])
  })
})

// PGlite runs one statement at a time; only several server connections can interleave the upserts.
describe.if(serverUrl !== undefined)('LoginAttemptRepository on a PostgreSQL server', () => {
  test('concurrent records on separate connections each get their own count', () => onServerDatabase(raceRecords))
})
