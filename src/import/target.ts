import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { PGlite, Transaction } from '@electric-sql/pglite'
import { Kysely } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import type postgres from 'postgres'
import type { DatabaseConfig } from '../config'
import { quoteIdent } from '../db/bulk'
import { createPGliteDatabase, createPostgresClient } from '../db/database'
import { migrateToLatest } from '../db/migrator'

/** What the loader needs inside the one import transaction, on either engine. */
export interface TargetSession {
  query<T>(text: string): Promise<T[]>
  /** Streams binary COPY data into `table`; `onChunk` hears how many rows each written chunk held. */
  copyIn(table: string, columns: string[], chunks: Iterable<{ data: Uint8Array; rows: number }>, onChunk: (rows: number) => void): Promise<void>
}

export interface Target {
  name: string
  migrate(): Promise<void>
  transaction<T>(work: (session: TargetSession) => Promise<T>): Promise<T>
  close(): Promise<void>
}

const copySql = (table: string, columns: string[], source: string) =>
  `copy ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) from ${source} with (format binary, freeze)`

/** A PostgreSQL server: COPY FROM STDIN streamed through postgres.js. */
export function serverTarget(config: Extract<DatabaseConfig, { kind: 'postgres' }>): Target {
  const sql = createPostgresClient({ ...config, maxConnections: 1 })
  const db = new Kysely<unknown>({ dialect: new PostgresJSDialect({ postgres: sql }) })
  return {
    name: `PostgreSQL at ${new URL(config.url).host}${new URL(config.url).pathname}`,
    migrate: () => migrateToLatest(db),
    transaction: (work) => sql.begin((tx) => work(serverSession(tx))) as Promise<never>,
    // Kysely ends the client only when it used it (migrate); the export never does.
    close: async () => {
      await db.destroy()
      await sql.end()
    },
  }
}

function serverSession(tx: postgres.TransactionSql): TargetSession {
  return {
    query: async <T>(text: string) => (await tx.unsafe(text)) as unknown as T[],
    async copyIn(table, columns, chunks, onChunk) {
      const stream = await tx.unsafe(copySql(table, columns, 'stdin')).writable()
      for (const chunk of chunks) {
        if (!stream.write(chunk.data)) await once(stream, 'drain')
        onChunk(chunk.rows)
      }
      stream.end()
      await finished(stream)
    },
  }
}

/** The embedded PGlite: COPY FROM its /dev/blob, one blob per table. */
export function pgliteTarget(pglite: PGlite, name = 'the embedded database'): Target {
  const db = createPGliteDatabase(pglite)
  return {
    name,
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
  }
}
