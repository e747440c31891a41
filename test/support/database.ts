import { afterAll, beforeAll, beforeEach } from 'bun:test'
import { PGlite } from '@electric-sql/pglite'
import { type DatabaseConnection, type Dialect, type Driver, Kysely, sql } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { DatabaseConfig } from '../../src/config'
import { createDatabase, createPGliteDatabase, createPostgresClient, pgliteOptions } from '../../src/db/database'
import { withDriverGuards } from '../../src/db/guarded-driver'
import { migrateToLatest } from '../../src/db/migrator'
import { PGliteDialect } from '../../src/db/pglite-dialect'
import type { DB } from '../../src/db/types'
import { inTransaction } from '../../src/repositories/transaction'
import { tableNames } from './schema'

/**
 * The admin URL of a real PostgreSQL server for the suites that need one. Outside CI a
 * missing URL means those suites do not run; under CI=true it is an error, never a skip.
 */
export const serverUrl: string | undefined = process.env.TEST_DATABASE_URL || undefined
if (!serverUrl && process.env.CI === 'true') {
  throw new Error('CI=true requires TEST_DATABASE_URL: the real-PostgreSQL suites must run in CI')
}

/** Shared suites run on PGlite unless TEST_BACKEND=postgres puts them on the real server. */
export const backend: 'pglite' | 'postgres' = process.env.TEST_BACKEND === 'postgres' ? 'postgres' : 'pglite'

export interface TestDatabase {
  db: Kysely<DB>
  /** Back to the freshly migrated state: seed rows only, every id sequence restarted. */
  reset(): Promise<void>
  close(): Promise<void>
  /** What the database is, for code that opens its own connection: the PGlite, or the server's settings. */
  engine: { pglite: PGlite } | { server: Extract<DatabaseConfig, { kind: 'postgres' }> }
}

let snapshot: Promise<Blob> | undefined

/** A dump of a migrated PGlite, made once per process: loading it is ~10x cheaper than migrating. */
export async function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const pglite = new PGlite(pgliteOptions)
    const db = createPGliteDatabase(pglite)
    await migrateToLatest(db)
    const blob = await pglite.dumpDataDir('none')
    await db.destroy()
    return blob
  })()
  return snapshot
}

/** A unique, empty database on the real server; `drop()` removes it. */
export async function createServerDatabase(
  adminUrl = requireServerUrl(),
): Promise<{ url: string; config: Extract<DatabaseConfig, { kind: 'postgres' }>; db: Kysely<DB>; drop(): Promise<void> }> {
  const name = `gearbox_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const config = {
    kind: 'postgres' as const,
    url: url.toString(),
    maxConnections: 5,
    connectTimeoutSeconds: 10,
    statementTimeoutMs: 60_000,
    preparedStatements: true,
  }
  const db = createDatabase(config)
  return {
    url: config.url,
    config,
    db,
    async drop() {
      await db.destroy()
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}

/** Runs `work` on a new, migrated database on the real server, which is dropped afterwards. */
export async function onServerDatabase<T>(work: (db: Kysely<DB>) => Promise<T>): Promise<T> {
  const server = await createServerDatabase()
  try {
    await migrateToLatest(server.db)
    return await work(server.db)
  } finally {
    await server.drop()
  }
}

/** A server database where nothing listens (a port that was free a moment ago): every query fails to connect. */
export function unreachableDatabase(): Kysely<DB> {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  return createDatabase({
    kind: 'postgres',
    url: `postgres://gearbox@127.0.0.1:${port}/gearbox`,
    maxConnections: 1,
    connectTimeoutSeconds: 2,
    statementTimeoutMs: 1000,
    preparedStatements: true,
  })
}

export function requireServerUrl(): string {
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set')
  return serverUrl
}

/** A new, empty (unmigrated) database on the configured backend, for tests of the schema itself. */
export async function openEmptyDatabase(): Promise<{ db: Kysely<DB>; close(): Promise<void> }> {
  if (backend === 'postgres') {
    const server = await createServerDatabase()
    return { db: server.db, close: server.drop }
  }
  const db = createPGliteDatabase(new PGlite(pgliteOptions))
  return { db, close: () => db.destroy() }
}

/** A migrated database on the configured backend, with a fast reset between tests. */
export async function openTestDatabase(on: typeof backend = backend): Promise<TestDatabase> {
  if (on === 'postgres') {
    const server = await createServerDatabase()
    await migrateToLatest(server.db)
    return { db: server.db, reset: await resetter(server.db), close: server.drop, engine: { server: server.config } }
  }
  const pglite = new PGlite({ ...pgliteOptions, loadDataDir: await migratedSnapshot() })
  const db = createPGliteDatabase(pglite)
  return { db, reset: await resetter(db), close: () => db.destroy(), engine: { pglite } }
}

/**
 * Builds one reset for this database, as ONE statement (a DO block): delete every row,
 * children before parents, put back the rows the migrations seeded, and set every sequence
 * back to where the migrations left it. Seed rows and sequence positions are read from the
 * freshly migrated database itself, so nothing here repeats what the migrations insert.
 * Measured by scripts/bench-test-reset.ts: under 1 ms on PGlite, where TRUNCATE ... RESTART
 * IDENTITY CASCADE costs ~15 ms (it swaps in new files for every table and index).
 */
async function resetter(db: Kysely<DB>): Promise<() => Promise<void>> {
  const tables = await tableNames(db)
  const { rows: foreignKeys } = await sql<{ child: string; parent: string; blocking: boolean }>`
    select conrelid::regclass::text as child, confrelid::regclass::text as parent, confdeltype in ('a', 'r') as blocking
    from pg_constraint where contype = 'f' and connamespace = 'public'::regnamespace`.execute(db)
  const { rows: sequences } = await sql<{ name: string; start: string; last: string | null }>`
    select sequencename as name, start_value::text as start, last_value::text as last
    from pg_sequences where schemaname = 'public'`.execute(db)

  const statements: string[] = []
  const seeded: string[] = []
  for (const table of deleteOrder(tables, foreignKeys)) {
    statements.push(`delete from ${ident(table)};`)
    const { rows } = await sql<{ json: string | null }>`select json_agg(t)::text as json from ${sql.table(table)} t`.execute(db)
    const json = rows[0]?.json
    if (json)
      seeded.unshift(`insert into ${ident(table)} overriding system value select * from json_populate_recordset(null::${ident(table)}, ${literal(json)});`)
  }
  statements.push(...seeded)
  if (sequences.length > 0) {
    const positions = sequences.map((s) => (s.last === null ? `setval(${literal(s.name)}, ${s.start}, false)` : `setval(${literal(s.name)}, ${s.last}, true)`))
    statements.push(`perform ${positions.join(', ')};`)
  }
  const reset = sql.raw(`do $reset$ begin\n${statements.join('\n')}\nend $reset$`)
  return async () => {
    await reset.execute(db)
  }
}

/**
 * Children before parents. Only NO ACTION/RESTRICT keys must be respected (cascade and set
 * null keys cannot fail a delete), which also breaks the threads <-> thread_candidates cycle.
 */
function deleteOrder(tables: string[], foreignKeys: { child: string; parent: string; blocking: boolean }[]): string[] {
  const order: string[] = []
  const remaining = new Set(tables)
  const referenced = (table: string, blockingOnly: boolean) =>
    foreignKeys.some((fk) => fk.parent === table && fk.child !== table && remaining.has(fk.child) && (fk.blocking || !blockingOnly))
  while (remaining.size > 0) {
    const next = [...remaining].find((t) => !referenced(t, false)) ?? [...remaining].find((t) => !referenced(t, true))
    if (!next) throw new Error(`no delete order for the tables ${[...remaining].join(', ')}: their foreign keys form a cycle`)
    order.push(next)
    remaining.delete(next)
  }
  return order
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`

// The test timeout (`bun test --timeout` in package.json) does not reach hooks (they keep
// bun's 5 s), and the first migrated PGlite of a process can take longer than that on a busy machine.
export const HOOK_TIMEOUT_MS = 60_000

/** Registers the hooks of a suite on a fresh database per test; read `.db` inside tests. */
export function useTestDatabase(on: typeof backend = backend): { readonly db: Kysely<DB> } {
  let testDb: TestDatabase | undefined
  beforeAll(async () => {
    testDb = await openTestDatabase(on)
  }, HOOK_TIMEOUT_MS)
  beforeEach(async () => {
    await testDb!.reset()
  }, HOOK_TIMEOUT_MS)
  afterAll(async () => {
    await testDb?.close()
  }, HOOK_TIMEOUT_MS)
  return {
    get db() {
      if (!testDb) throw new Error('useTestDatabase: the database is opened in beforeAll')
      return testDb.db
    },
  }
}

/** Runs `work` on a repository bound to a new transaction over `db()`, as Store.write() would. */
export function inTransactionOf<R>(db: () => Kysely<DB>, repository: (trx: Kysely<DB>) => R) {
  return <T>(work: (repo: R) => Promise<T>): Promise<T> => inTransaction(db(), (trx) => work(repository(trx)))
}

/**
 * Opens a transaction on `db` and runs `work` in it (a row lock, an insert), then keeps it open:
 * resolves once `work` is done, with `end()`, which commits it and resolves when it has.
 * For tests of what another transaction does meanwhile (with untilLocksWait).
 */
export async function holdTransaction(db: Kysely<DB>, work: (trx: Kysely<DB>) => Promise<unknown>): Promise<{ end(): Promise<void> }> {
  const done = Promise.withResolvers<void>()
  const release = Promise.withResolvers<void>()
  const held = db.transaction().execute(async (trx) => {
    await work(trx)
    done.resolve()
    await release.promise
  })
  await Promise.race([done.promise, held])
  return {
    async end() {
      release.resolve()
      await held
    },
  }
}

/**
 * Resolves once `count` lock requests wait in `db`'s database, or once `work` settled without that
 * many ever waiting; a test then ends the transaction they wait for and checks what `work` did.
 */
export async function untilLocksWait(db: Kysely<DB>, count: number, work: Promise<unknown>): Promise<void> {
  let settled = false
  work.then(
    () => (settled = true),
    () => (settled = true),
  )
  // Only this database's backends: another test run on the same server may have waiting locks of its own.
  const waiting = async () =>
    (
      await sql<{ n: number }>`select count(*)::int as n from pg_locks as l join pg_stat_activity as a on a.pid = l.pid
        where not l.granted and a.datname = current_database()`.execute(db)
    ).rows[0]!.n
  while (!settled && (await waiting()) < count) await Bun.sleep(20)
}

/**
 * `db` with a counter of the statements it sends: `counted.queries` after using `counted.db`.
 * Kysely hands a plugin each executed statement's result once (a query's subqueries are part
 * of its one statement); a transaction's begin and commit are not counted.
 */
export function countingQueries(db: Kysely<DB>): { db: Kysely<DB>; queries: number } {
  const counted = {
    queries: 0,
    db: db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        counted.queries++
        return args.result
      },
    }),
  }
  return counted
}

/**
 * A second Kysely on a test database whose driver records the SQL of every statement it sends,
 * and `begin`, `commit` or `rollback` for each transaction's (which Kysely's `log` option never
 * sees). `close()` it before the test database; on PGlite it leaves the shared PGlite open.
 */
export function recordingStatements(engine: TestDatabase['engine']): { db: Kysely<DB>; statements: string[]; close(): Promise<void> } {
  const statements: string[] = []
  const inner: Dialect =
    'pglite' in engine ? new PGliteDialect({ pglite: engine.pglite }) : new PostgresJSDialect({ postgres: createPostgresClient(engine.server) })
  // Each recording connection stands for the driver's own, which the driver gets back.
  const originals = new WeakMap<DatabaseConnection, DatabaseConnection>()
  const original = (connection: DatabaseConnection) => originals.get(connection) ?? connection
  /** Records `statement`, then sends it. */
  const record = <T>(statement: string, send: () => Promise<T>): Promise<T> => {
    statements.push(statement)
    return send()
  }
  const recordingDriver = (driver: Driver): Driver => ({
    init: () => driver.init(),
    async acquireConnection() {
      const connection = await driver.acquireConnection()
      const recording: DatabaseConnection = {
        executeQuery: (query) => record(query.sql, () => connection.executeQuery(query)),
        streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
      }
      originals.set(recording, connection)
      return recording
    },
    releaseConnection: (connection) => driver.releaseConnection(original(connection)),
    beginTransaction: (connection, settings) => record('begin', () => driver.beginTransaction(original(connection), settings)),
    commitTransaction: (connection) => record('commit', () => driver.commitTransaction(original(connection))),
    rollbackTransaction: (connection) => record('rollback', () => driver.rollbackTransaction(original(connection))),
    destroy: async () => {
      if (!('pglite' in engine)) await driver.destroy()
    },
  })
  const dialect: Dialect = {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => recordingDriver(inner.createDriver()),
  }
  const db = new Kysely<DB>({ dialect: withDriverGuards(dialect) })
  return { db, statements, close: () => db.destroy() }
}
