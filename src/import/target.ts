import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import type postgres from 'postgres'
import type { DatabaseConfig } from '../config'
import { quoteIdent } from '../db/bulk'
import { describeDatabase } from '../db/connection'
import { createPGliteDatabase, createPostgresClient } from '../db/database'
import { transactionWithCommitOutcome } from '../db/errors'
import { migrateToLatest } from '../db/migrator'

/** What the loader needs inside the one import transaction, on either engine. */
export interface TargetSession {
  query<T>(text: string): Promise<T[]>
  /** Streams binary COPY data into `table`; `onChunk` hears how many rows each written chunk held. */
  copyIn(table: string, columns: string[], chunks: Iterable<{ data: Uint8Array; rows: number }>, onChunk: (rows: number) => void): Promise<void>
  /** Starts a binary COPY into `table` that is fed piece by piece (see CopyStream). */
  openCopy(table: string, columns: string[]): Promise<CopyStream>
  /**
   * Only where Target.scanDuringLoad: applies every pending migration inside this
   * transaction, recorded in kysely_migration as Kysely's migrator records them; a rollback
   * undoes them with everything else. Throws the first migration error with its name.
   */
  migrate?(): Promise<void>
}

/** A binary COPY in progress. */
export interface CopyStream {
  /** Sends binary COPY data; resolves when the connection can take more. */
  write(data: Uint8Array): Promise<void>
  /** Ends the COPY; resolves when the server has stored every row (rejects with its error). */
  end(): Promise<void>
  /** Abandons the COPY (the server discards it and fails the transaction, which must be rolled back). */
  abort(): void
}

export interface Target {
  name: string
  /**
   * true: the import migrates, reads the legacy file and copies it table by table in its one
   * transaction, so reading and the server's work overlap (the session has `migrate`); false:
   * it reads the whole file first, then calls migrate() and loads.
   */
  scanDuringLoad: boolean
  migrate(): Promise<void>
  transaction<T>(work: (session: TargetSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}

/**
 * Without FREEZE: frozen rows are visible to every snapshot at once, also to one taken before
 * the import (PostgreSQL's COPY docs), which then saw some tables as they were and others as
 * imported; and the tables are emptied with DELETE (emptyApplicationTables), which FREEZE does not allow.
 */
const copySql = (table: string, columns: string[], source: string) =>
  `copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) from ${source} with (format binary)`

/** A PostgreSQL server: COPY FROM STDIN streamed through postgres.js. */
export function serverTarget(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Target {
  const sql = createPostgresClient({ ...config, maxConnections: 1 })
  const db = new Kysely<unknown>({ dialect: new PostgresJSDialect({ postgres: sql }) })
  return {
    name: describeDatabase(config),
    scanDuringLoad: true,
    migrate: () => migrateToLatest(db),
    // A lost COMMIT is a CommitUnknownError: the import must not then undo what the rows name.
    transaction: (work) => transactionWithCommitOutcome((inTx) => sql.begin((tx) => inTx(serverSession(tx))) as Promise<never>, work),
    // Kysely ends the client only when it used it (migrate); the export never does.
    close: async () => {
      await db.destroy()
      await sql.end()
    },
  }
}

function serverSession(tx: postgres.TransactionSql): TargetSession {
  const session: TargetSession = {
    query: async <T>(text: string) => (await tx.unsafe(text)) as unknown as T[],
    async copyIn(table, columns, chunks, onChunk) {
      const copy = await session.openCopy(table, columns)
      for (const chunk of chunks) {
        await copy.write(chunk.data)
        onChunk(chunk.rows)
      }
      await copy.end()
    },
    async openCopy(table, columns) {
      const stream = await tx.unsafe(copySql(table, columns, 'stdin')).writable()
      // Kept here, so a failure (the server's, or abort's) never goes unhandled; write and end rethrow it.
      let failure: Error | undefined
      stream.on('error', (error) => {
        failure ??= error
      })
      return {
        write: async (data) => {
          if (failure) throw failure
          if (!stream.write(data)) await once(stream, 'drain')
        },
        end: async () => {
          if (failure) throw failure
          stream.end()
          await finished(stream)
        },
        // postgres.js answers a destroyed COPY stream with CopyFail.
        abort: () => void stream.destroy(new Error('import abandoned')),
      }
    },
    // Kysely's migrator on this transaction's connection, told not to open a transaction of its own.
    migrate: () => migrateToLatest(new Kysely<unknown>({ dialect: new PostgresJSDialect({ postgres: transactionPool(tx) }) }), { inTransaction: true }),
  }
  return session
}

/** A stand-in for a postgres.js pool whose one connection is the open transaction `tx` (for kysely-postgres-js). */
function transactionPool(tx: postgres.TransactionSql): postgres.Sql {
  const connection = { unsafe: (text: string, params?: never[]) => tx.unsafe(text, params), release: () => {} }
  return Object.assign(() => {}, { reserve: async () => connection, end: async () => {} }) as never
}

/** The embedded PGlite: COPY FROM its /dev/blob, one blob per table. */
export function pgliteTarget(pglite: PGlite, name = 'the embedded database'): Target {
  const db = createPGliteDatabase(pglite)
  return {
    name,
    scanDuringLoad: false,
    migrate: () => migrateToLatest(db),
    transaction: (work) => pglite.transaction((tx) => work(pgliteSession(tx))),
    // Kysely closes PGlite only when it used it (migrate); the export never does.
    close: async () => {
      await db.destroy()
      if (!pglite.closed) await pglite.close()
    },
  }
}

function pgliteSession(tx: Transaction): TargetSession {
  return {
    query: async <T>(text: string) => (await tx.query<T>(text)).rows,
    async copyIn(table, columns, chunks, onChunk) {
      const parts: Uint8Array[] = []
      let rows = 0
      for (const chunk of chunks) {
        parts.push(chunk.data)
        rows += chunk.rows
      }
      await tx.query(copySql(table, columns, `'/dev/blob'`), [], { blob: new Blob(parts) })
      onChunk(rows)
    },
    async openCopy(table, columns) {
      const parts: Uint8Array[] = []
      return {
        write: async (data) => void parts.push(data),
        end: async () => void (await tx.query(copySql(table, columns, `'/dev/blob'`), [], { blob: new Blob(parts) })),
        abort: () => {
          parts.length = 0
        },
      }
    },
  }
}
