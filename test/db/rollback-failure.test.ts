// A connection lost during a transaction ends it with the lost connection's error, a 503, and
// the pool goes on with a new connection: whether a TCP relay between the pool and PostgreSQL
// cuts it as a given statement goes out, or the backend ends (pg_terminate_backend, a server
// restart) while the transaction waits between statements, with no query on it to fail.
// Before: a lost ROLLBACK was a TypeError (a 500), since kysely-postgres-js's driver inherits
// Kysely's PostgresDriver.rollbackTransaction, which calls a private method kysely-postgres-js's
// connection lacks (PostgresDriver in src/db/database.ts). And postgres.js 3.4.9 sent a reserved
// connection's next statement after its close anyway: to a null socket (an uncaught TypeError,
// which ends the process, and a statement that never settled) or, once the pool had reconnected
// it for another caller, on that caller's new session, outside the transaction; releasing it
// listed the closed connection as open (porsager/postgres#1208; patches/postgres+3.4.9.patch).
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { sql, type Transaction } from 'kysely'
import postgres from 'postgres'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
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

/** Ends the backend that serves `trx` from another session, and waits for `afterwards`. */
async function terminateBackendOf(trx: Transaction<DB>, afterwards: () => Promise<unknown>) {
  const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)
  const killer = postgres(server.url, { max: 1, onnotice: () => {} })
  try {
    await killer`select pg_terminate_backend(${rows[0]!.pid})`
  } finally {
    await killer.end()
  }
  await afterwards()
}

/** `work` settled within `ms`, or a clear failure instead of a hung test. */
const within = <T>(ms: number, work: Promise<T>) => Promise.race([work, Bun.sleep(ms).then(() => 'still pending' as const)])

const countOf = async (db: ReturnType<typeof createDatabase>, keys: string[]) =>
  (
    await db
      .selectFrom('settings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key', 'in', keys)
      .executeTakeFirstOrThrow()
  ).n

test('a backend ended while its transaction waits between statements: the next statement is a 503 at once; the pool goes on', async () => {
  const db = createDatabase({ ...server.config, maxConnections: 1 })
  try {
    const outcome = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'idle-first', value: '1' }).execute()
        // The close reaches postgres.js a moment after the backend has ended.
        await terminateBackendOf(trx, () => Bun.sleep(200))
        await trx.insertInto('settings').values({ key: 'idle-second', value: '1' }).execute()
      })
      .catch((e: unknown) => e)
    expect(await within(5_000, outcome)).toBeInstanceOf(UnavailableError)
    expect(await countOf(db, ['idle-first', 'idle-second'])).toBe(0)
  } finally {
    await db.destroy()
  }
})

test("a backend ended between statements and its connection reopened for another caller: the transaction's next statement never runs on that session", async () => {
  const db = createDatabase({ ...server.config, maxConnections: 1 })
  try {
    let other: Promise<unknown> | undefined
    const outcome = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'moved-first', value: '1' }).execute()
        // The pool's one connection is this transaction's, and another caller waits for it:
        // once the backend has ended, postgres.js reconnects it for that caller at once (it
        // dropped that caller's reserve() before: a 503 when the acquire timeout ran out).
        other = sql`select 1 as one`.execute(db)
        await terminateBackendOf(trx, () => Bun.sleep(300))
        await trx.insertInto('settings').values({ key: 'moved-second', value: '1' }).execute()
      })
      .catch((e: unknown) => e)
    expect(await within(5_000, outcome)).toBeInstanceOf(UnavailableError)
    expect(await other).toMatchObject({ rows: [{ one: 1 }] })
    expect(await countOf(db, ['moved-first', 'moved-second'])).toBe(0)
  } finally {
    await db.destroy()
  }
})
