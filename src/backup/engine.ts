import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely'
import type postgres from 'postgres'
import type { DatabaseConfig } from '../config'
import { quoteIdent } from '../db/bulk'
import { connectionProblem, DatabaseUnavailableError, describeDatabase } from '../db/connection'
import { createPostgresClient, openPGlite } from '../db/database'
import { transactionWithCommitOutcome } from '../db/errors'
import type { TableShape } from './catalog'

/** What backup and restore need inside their one transaction, on either engine. */
export interface Session {
  query<T>(text: string, params?: unknown[]): Promise<T[]>
  /** The table's rows in key order, in COPY text format, as bytes. */
  copyOut(table: TableShape): Promise<Uint8Array>
  /** Loads text-format COPY data into `table`'s `columns`. */
  copyIn(table: string, columns: string[], data: Uint8Array): Promise<void>
}

export interface Engine {
  /** Where it is, without a password (describeDatabase). */
  name: string
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(mode: 'snapshot' | 'write', work: (session: Session) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/** REPEATABLE READ READ ONLY: every table read from the same snapshot while writers go on. */
const SNAPSHOT = 'isolation level repeatable read, read only'

/**
 * Opens the configured database for backup or restore and checks that it answers.
 * Throws DatabaseUnavailableError (one line) when it cannot; the embedded database is
 * refused while another process (a running server) holds its lock.
 */
export async function openEngine(config: DatabaseConfig): Promise<Engine> {
  try {
    const engine = config.kind === 'postgres' ? serverEngine(config) : pgliteEngine(openPGlite(config.dataDir), describeDatabase(config))
    await engine.transaction('snapshot', (s) => s.query('select 1'))
    return engine
  } catch (error) {
    throw new DatabaseUnavailableError(connectionProblem(config, error))
  }
}

function serverEngine(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Engine {
  const sql = createPostgresClient({ ...config, maxConnections: 1 })
  return {
    name: describeDatabase(config),
    // A lost COMMIT is a CommitUnknownError: the restore must not then undo what the rows name.
    transaction: (mode, work) =>
      transactionWithCommitOutcome(
        (inTx) => sql.begin(mode === 'snapshot' ? SNAPSHOT : 'isolation level read committed', (tx) => inTx(serverSession(tx))) as Promise<never>,
        work,
      ),
    close: () => sql.end(),
  }
}

function serverSession(tx: postgres.TransactionSql): Session {
  return {
    query: async <T>(text: string, params: unknown[] = []) => (await tx.unsafe(text, params as never[])) as unknown as T[],
    async copyOut(table) {
      // The COPY text built by a query, read with a cursor: a COPY TO STDOUT stream in
      // postgres.js 3.4 can leave the socket paused when it ends, so the next query hangs.
      const lines: string[] = []
      for await (const rows of tx.unsafe(copyTextQuery(table)).cursor(5000)) for (const row of rows) lines.push(`${row.line}\n`)
      return Buffer.from(lines.join(''))
    },
    async copyIn(table, columns, data) {
      const stream = await tx.unsafe(copyFrom(table, columns, 'stdin')).writable()
      // In pieces, so the driver's buffer stays small whatever the table's size.
      for (let at = 0; at < data.length; at += 1 << 20) {
        if (!stream.write(data.subarray(at, at + (1 << 20)))) await once(stream, 'drain')
      }
      stream.end()
      await finished(stream)
    },
  }
}

/** The embedded PGlite: one session, so a transaction is already a snapshot; COPY goes through its /dev/blob. */
export function pgliteEngine(pglite: PGlite, name: string): Engine {
  return {
    name,
    transaction: (_mode, work) => pglite.transaction((tx) => work(pgliteSession(tx))),
    close: () => pglite.close(),
  }
}

function pgliteSession(tx: Transaction): Session {
  return {
    query: async <T>(text: string, params: unknown[] = []) => (await tx.query<T>(text, params)).rows,
    async copyOut(table) {
      const result = await tx.query(`copy (${orderedRows(table)}) to '/dev/blob'`)
      // PGlite hands over no blob at all when nothing was written (an empty table).
      return result.blob ? new Uint8Array(await result.blob.arrayBuffer()) : new Uint8Array()
    },
    async copyIn(table, columns, data) {
      await tx.query(copyFrom(table, columns, `'/dev/blob'`), [], { blob: new Blob([data]) })
    },
  }
}

/** The rows of `table` in key order. */
export const orderedRows = (t: TableShape) => `select ${t.columns.map(quoteIdent).join(', ')} from ${quoteIdent(t.name)} order by ${t.orderBy.join(', ')}`

/**
 * One COPY text line per row, as COPY TO writes it: each value's output-function text
 * (concat() uses it: booleans are t/f), backslash and the control characters COPY escapes
 * written as \\, \b, \f, \n, \r, \t, \v, NULL as \N, tab-separated.
 */
function copyTextQuery(t: TableShape): string {
  const escapes: [number, string][] = [
    [8, 'b'],
    [12, 'f'],
    [10, 'n'],
    [13, 'r'],
    [9, 't'],
    [11, 'v'],
  ]
  const field = (column: string, i: number) => {
    const c = quoteIdent(column)
    const escaped = t.textual[i]
      ? escapes.reduce((text, [code, letter]) => `replace(${text}, chr(${code}), '\\${letter}')`, `replace(concat(${c}), '\\', '\\\\')`)
      : `concat(${c})`
    return `case when ${c} is null then '\\N' else ${escaped} end`
  }
  return `select ${t.columns.map(field).join(` || chr(9) || `)} as line from ${quoteIdent(t.name)} order by ${t.orderBy.join(', ')}`
}

const copyFrom = (table: string, columns: string[], source: string) => `copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) from ${source}`

/**
 * A Kysely whose every query runs in `session`'s open transaction, for Kysely's Migrator.
 * The migrator's own transaction becomes a savepoint, so its work commits or rolls back
 * with the caller's.
 */
export function kyselyInSession(session: Session): Kysely<any> {
  const connection: DatabaseConnection = {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      return { rows: await session.query<R>(query.sql, [...query.parameters]) }
    },
    streamQuery: () => {
      throw new Error('streaming is not supported inside a backup session')
    },
  }
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => void (await session.query('savepoint gearbox_migrate')),
    commitTransaction: async () => void (await session.query('release savepoint gearbox_migrate')),
    rollbackTransaction: async () => void (await session.query('rollback to savepoint gearbox_migrate')),
    releaseConnection: async () => {},
    destroy: async () => {},
  }
  return new Kysely<any>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  })
}
