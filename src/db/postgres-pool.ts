import type { PendingQuery, ReservedSql, Sql } from 'postgres'
import { UnavailableError } from '../errors'

/** How Kysely's PostgresDriver opens a transaction (its beginTransaction: `begin`, or `start transaction …`). */
const TRANSACTION_START = /^(begin|start transaction)\b/i

/** How long closing the pool waits for queries still running before it closes their connections. */
const END_TIMEOUT_SECONDS = 5

const timedOut = () => new UnavailableError('database unavailable: no connection became free in time')

export interface PooledClientOptions {
  /** postgres.js's `prepare` for every statement: false for PgBouncer in transaction mode. */
  prepare: boolean
  /**
   * How long a transaction waits for a connection of its own, or a statement for one to be
   * sent on, in milliseconds; then it fails with an UnavailableError (503 + Retry-After).
   * While the server is down postgres.js queues statements until a connection is back; without
   * a bound a request would wait out every reconnect attempt and its client would give up first.
   */
  acquireTimeoutMs: number
}

/** The statement as postgres.js tracks it: `state` is set once it has been sent on a connection (postgres.js src/connection.js, execute). */
type Tracked = PendingQuery<never> & { state?: unknown }

/**
 * What kysely-postgres-js is given as its postgres.js client. Its driver reserves a connection
 * for every query (`reserve()`, then `unsafe()`, then `release()`), which keeps a connection to
 * one statement at a time and costs a reservation each. Here a reservation is taken only for a
 * transaction, when Kysely sends its BEGIN, and held until Kysely releases the connection. A
 * statement outside a transaction goes to postgres.js's pool as `sql.unsafe` would, where it
 * shares (is pipelined on) an open connection with others.
 *
 * So statements outside a transaction share no session: session state (SET, advisory locks,
 * temporary tables) needs a transaction. `counts()` are those of PoolStats: transactions
 * holding a connection and statements sent and not yet answered are in use; transactions and
 * statements still waiting for a connection are waiting. A statement that waits longer than
 * `acquireTimeoutMs` is taken out of postgres.js's queue (it never runs) and fails with an
 * UnavailableError; once sent, only `statement_timeout` bounds it.
 */
export function pooledClient(client: Sql, { prepare, acquireTimeoutMs }: PooledClientOptions) {
  let reserving = 0
  let reserved = 0
  const statements = new Set<Tracked>()

  /** A connection of the transaction's own, or an UnavailableError after acquireTimeoutMs; one that arrives later goes straight back. */
  async function reserve(): Promise<ReservedSql> {
    reserving++
    const pending = client.reserve()
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(timedOut())
        pending.then(
          (connection) => connection.release(),
          () => {},
        )
      }, acquireTimeoutMs)
    })
    try {
      const connection = await Promise.race([pending, timeout])
      reserved++
      return connection
    } finally {
      reserving--
      clearTimeout(timer)
    }
  }

  /** A statement through the pool, bounded by acquireTimeoutMs while it waits for a connection. */
  function pooled(sql: string, params: unknown[] | undefined, options: object) {
    const query = client.unsafe(sql, params as never[], options) as Tracked
    const send = () => {
      statements.add(query)
      let cancelled = false
      const timer = setTimeout(() => {
        if (query.state) return
        cancelled = true
        query.cancel()
      }, acquireTimeoutMs)
      return query
        .catch((error) => {
          throw cancelled ? timedOut() : error
        })
        .finally(() => {
          clearTimeout(timer)
          statements.delete(query)
        })
    }
    return deferred(send, (rows) => query.cursor(rows))
  }

  return {
    // Without a timeout, postgres.js's end() never resolves when a reserve() was still queued
    // as it began; after END_TIMEOUT_SECONDS it closes the connections itself.
    end: () => client.end({ timeout: END_TIMEOUT_SECONDS }),
    /** Connections in use and statements or transactions waiting for one, as PoolStats counts them. */
    counts() {
      let sent = 0
      for (const query of statements) if (query.state) sent++
      return { inUse: reserved + sent, waiting: reserving + statements.size - sent }
    },
    /** What kysely-postgres-js takes for a reserved connection: one that reserves a real one at BEGIN. */
    async reserve() {
      let connection: Promise<ReservedSql> | undefined
      return {
        release() {
          connection?.then(
            (held) => {
              reserved--
              held.release()
            },
            () => {},
          )
        },
        unsafe(sql: string, params?: unknown[], options?: object) {
          const withPrepare = { prepare, ...options }
          if (!connection && TRANSACTION_START.test(sql)) connection = reserve()
          if (!connection) return pooled(sql, params, withPrepare)
          // Statements after BEGIN go behind it, in order, on the transaction's connection.
          const held = connection
          return deferred(
            () => held.then((c) => c.unsafe(sql, params as never[], withPrepare)),
            async function* (rows) {
              yield* (await held).unsafe(sql, params as never[], withPrepare).cursor(rows)
            },
          )
        },
      }
    },
  }
}

/**
 * A statement the way postgres.js hands one out: sent when it is awaited, or streamed with
 * `cursor(rows)` instead (kysely-postgres-js does one or the other).
 */
function deferred(send: () => Promise<unknown>, cursor: (rows: number) => AsyncIterable<unknown[]>) {
  return {
    // biome-ignore lint/suspicious/noThenProperty: awaiting it is what sends it, as with a postgres.js query.
    then: <T, E = never>(onSent?: (result: unknown) => T | PromiseLike<T>, onFailed?: (error: unknown) => E | PromiseLike<E>) => send().then(onSent, onFailed),
    cursor,
  }
}
