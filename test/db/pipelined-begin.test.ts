// On a server, a transaction's BEGIN goes out with its first statement (DriverGuards.pipelineBegin):
// a TCP relay between the pool and PostgreSQL sees what the driver writes.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Socket } from 'bun'
import { sql } from 'kysely'
import { createDatabase } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { createServerDatabase } from '../support/database'

let server: Awaited<ReturnType<typeof createServerDatabase>>
let relay: { port: number; stop(closeActiveConnections?: boolean): void }
/** Each chunk the pool wrote towards PostgreSQL, as text. */
const sent: string[] = []

beforeAll(async () => {
  server = await createServerDatabase()
  await migrateToLatest(server.db)
  const target = new URL(server.url)
  relay = Bun.listen<{ upstream?: Socket; early: Buffer[] }>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        client.data = { early: [] }
        const upstream = await Bun.connect({
          hostname: target.hostname,
          port: Number(target.port || 5432),
          socket: {
            data: (_, chunk) => void client.write(chunk),
            close: () => void client.end(),
          },
        })
        for (const chunk of client.data.early) upstream.write(chunk)
        client.data.upstream = upstream
      },
      data(client, chunk) {
        sent.push(Buffer.from(chunk).toString('latin1'))
        if (client.data.upstream) client.data.upstream.write(chunk)
        else client.data.early.push(Buffer.from(chunk))
      },
      close: (client) => void client.data.upstream?.end(),
    },
  })
}, 60_000)

afterAll(async () => {
  relay?.stop(true)
  await server?.drop()
}, 60_000)

test('a transaction sends BEGIN and its first statement in one write, and still commits or rolls back as one', async () => {
  const url = new URL(server.url)
  url.host = `127.0.0.1:${relay.port}`
  const db = createDatabase({ ...server.config, url: url.toString(), maxConnections: 1 })
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
