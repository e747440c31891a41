// What a clean database costs per test, three ways, in one run:
//   (a) PGlite.create + all migrations   (b) PGlite.create from a migrated snapshot (loadDataDir)
//   (c) the harness reset (test/support/database.ts) after a test's writes, on PGlite and,
//       when TEST_DATABASE_URL is set, on the real server; next to it the TRUNCATE ... RESTART
//       IDENTITY CASCADE reset the harness used before, for comparison.
// Usage: bun scripts/bench-test-reset.ts   (TEST_DATABASE_URL=postgres://... adds the server rows)
import { PGlite } from '@electric-sql/pglite'
import { type Kysely, sql } from 'kysely'
import { createPGliteDatabase, pgliteOptions } from '../src/db/database'
import { migrateToLatest } from '../src/db/migrator'
import type { DB } from '../src/db/types'
import { migratedSnapshot, openTestDatabase, serverUrl, type TestDatabase } from '../test/support/database'
import { helpOnRequest } from './bench/help'

helpOnRequest(import.meta.path)

const RUNS = { create: 5, load: 20, reset: 200, truncate: 50 }

interface Row {
  what: string
  samples: number[]
}

async function measure(runs: number, before: () => Promise<unknown>, timed: () => Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    await before()
    const start = performance.now()
    await timed()
    samples.push(performance.now() - start)
  }
  return samples
}

const nothing = async () => {}

/** What a typical test leaves behind: the owner, an API key, a category and an item. */
async function testWrites(db: Kysely<DB>) {
  const user = await db.insertInto('users').values({ username: 'owner', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('api_keys').values({ user_id: user.id, name: 'tests', key_hash: 'h', key_prefix: 'p' }).execute()
  const category = await db.insertInto('categories').values({ name: 'Shelter' }).returning('id').executeTakeFirstOrThrow()
  await db.insertInto('items').values({ name: 'Tent', category_id: category.id, weight_grams: 1200 }).execute()
}

/** The previous harness reset: TRUNCATE everything in a transaction, then reseed category 1. */
function truncateReset(db: Kysely<DB>) {
  return db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_migration%'`.execute(trx)
    await sql`truncate ${sql.join(rows.map((r) => sql.table(r.name)))} restart identity cascade`.execute(trx)
    await trx.insertInto('categories').values({ id: 1, name: 'Uncategorized', icon: 'package' }).execute()
    await sql`select setval(pg_get_serial_sequence('categories', 'id'), 1)`.execute(trx)
  })
}

async function resetRows(label: string, testDb: TestDatabase): Promise<Row[]> {
  const { db, reset } = testDb
  const rows = [
    { what: `(c) harness reset, ${label}`, samples: await measure(RUNS.reset, () => testWrites(db), reset) },
    {
      what: `    TRUNCATE reset (before), ${label}`,
      samples: await measure(
        RUNS.truncate,
        () => testWrites(db),
        () => truncateReset(db),
      ),
    },
  ]
  // Both must leave exactly the migrated state; a fast reset that is wrong is worth nothing.
  await testWrites(db)
  await reset()
  const categories = await db.selectFrom('categories').select(['id', 'name']).execute()
  const next = await db.insertInto('users').values({ username: 'check', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
  if (JSON.stringify(categories) !== '[{"id":1,"name":"Uncategorized"}]' || next.id !== 1) {
    throw new Error(`the ${label} reset did not restore the migrated state`)
  }
  await testDb.close()
  return rows
}

const rows: Row[] = []

rows.push({
  what: '(a) PGlite.create + migrate',
  samples: await measure(RUNS.create, nothing, async () => {
    const db = createPGliteDatabase(await PGlite.create(pgliteOptions))
    await migrateToLatest(db)
    await db.destroy()
  }),
})

const blob = await migratedSnapshot()
rows.push({
  what: '(b) PGlite.create from snapshot',
  samples: await measure(RUNS.load, nothing, async () => {
    const pglite = await PGlite.create({ ...pgliteOptions, loadDataDir: blob })
    await pglite.close()
  }),
})

rows.push(...(await resetRows('PGlite', await openTestDatabase('pglite'))))
if (serverUrl) rows.push(...(await resetRows('server', await openTestDatabase('postgres'))))

const quantile = (samples: number[], q: number) => {
  const sorted = [...samples].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
const baseline = quantile(rows[0]!.samples, 0.5)
console.log(`per-test cost (ms), ${new Date().toISOString()}, bun ${Bun.version}`)
console.table(
  rows.map((r) => ({
    what: r.what,
    runs: r.samples.length,
    'median ms': Number(quantile(r.samples, 0.5).toFixed(2)),
    'p95 ms': Number(quantile(r.samples, 0.95).toFixed(2)),
    'ratio to (a)': Number((quantile(r.samples, 0.5) / baseline).toPrecision(2)),
    '(a) / this': Math.round(baseline / quantile(r.samples, 0.5)),
  })),
)
if (!serverUrl) console.log('TEST_DATABASE_URL is not set: no server rows.')
