// A connection lost during a transaction (a TCP relay between the pool and PostgreSQL cuts it
// as a given statement goes out) ends the transaction with the lost connection's error, a 503,
// and the pool goes on with a new connection. Before: a lost ROLLBACK was a TypeError (a 500),
// since kysely-postgres-js's driver inherits Kysely's PostgresDriver.rollbackTransaction, which
// calls a private method kysely-postgres-js's connection lacks; and postgres.js, handed the lost
// connection back, listed it as open, so the next query written to it threw an uncaught
// TypeError (a null socket) and never settled (DriverGuards.dropLostConnections).
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { UnavailableError } from '../../src/errors'
import { createServerDatabase } from '../support/database'
import { startRelay } from '../support/relay'

let server: Awaited<ReturnType<typeof createServerDatabase>>
let relay: ReturnType<typeof startRelay>
let cutsInserts: ReturnType<typeof startRelay>

beforeAll(async () => {
  server = await createServerDatabase()
  await migrateToLatest(server.db)
  relay = startRelay(server.url, { cutOn: /\brollback\b/i })
  cutsInserts = startRelay(server.url, { cutOn: /insert into "settings"/ })
}, 60_000)

afterAll(async () => {
  relay?.stop()
  cutsInserts?.stop()
  await server?.drop()
}, 60_000)

test('a ROLLBACK lost with its connection ends the transaction with a 503, not a TypeError; the pool goes on', async () => {
  const db = createDatabase({ ...server.config, url: relay.url, maxConnections: 1 })
  try {
    const error = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'never', value: '1' }).execute()
        throw new Error('the work failed')
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(relay.sent.some((chunk) => /\brollback\b/i.test(chunk))).toBe(true)
    // postgres.js opens a new connection for the next query; the lost transaction wrote nothing.
    expect(await sql<{ n: number }>`select count(*)::int as n from settings where key = 'never'`.execute(db)).toMatchObject({ rows: [{ n: 0 }] })
  } finally {
    await db.destroy()
  }
})

test('a statement lost with its connection ends the transaction with a 503; no ROLLBACK is written to the lost connection', async () => {
  const db = createDatabase({ ...server.config, url: cutsInserts.url, maxConnections: 1 })
  try {
    await sql`select 1`.execute(db)
    const error = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'never', value: '1' }).execute()
      })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UnavailableError)
    expect(cutsInserts.sent.some((chunk) => /\brollback\b/i.test(chunk))).toBe(false)
    expect(await sql<{ n: number }>`select count(*)::int as n from settings where key = 'never'`.execute(db)).toMatchObject({ rows: [{ n: 0 }] })
  } finally {
    await db.destroy()
  }
})
