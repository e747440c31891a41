// On a server, a transaction's BEGIN goes out with its first statement (DriverGuards.pipelineBegin):
// a TCP relay between the pool and PostgreSQL sees what the driver writes.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { createServerDatabase } from '../support/database'
import { startRelay } from '../support/relay'

let server: Awaited<ReturnType<typeof createServerDatabase>>
let relay: ReturnType<typeof startRelay>

beforeAll(async () => {
  server = await createServerDatabase()
  await migrateToLatest(server.db)
  relay = startRelay(server.url)
}, 60_000)

afterAll(async () => {
  relay?.stop()
  await server?.drop()
}, 60_000)

test('a transaction sends BEGIN and its first statement in one write, and still commits or rolls back as one', async () => {
  const { sent } = relay
  const db = createDatabase({ ...server.config, url: relay.url, maxConnections: 1 })
  try {
    await sql`select 1`.execute(db)
    sent.length = 0
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('settings').values({ key: 'pipelined', value: '1' }).execute()
      await trx.insertInto('settings').values({ key: 'second', value: '2' }).execute()
    })
    const together = sent.filter((chunk) => /\bbegin\b/i.test(chunk) && /insert into "settings"/.test(chunk))
    expect(together, `chunks written: ${JSON.stringify(sent)}`).toHaveLength(1)

    const failed = await db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto('settings').values({ key: 'rolled back', value: '1' }).execute()
        await trx.insertInto('settings').values({ key: 'pipelined', value: 'a duplicate key' }).execute()
      })
      .catch((error: unknown) => error)
    expect(failed).toBeInstanceOf(Error)
    expect(await db.selectFrom('settings').select(['key', 'value']).orderBy('key').execute()).toEqual([
      { key: 'pipelined', value: '1' },
      { key: 'second', value: '2' },
    ])
  } finally {
    await db.destroy()
  }
})
