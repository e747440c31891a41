import { CompiledQuery, type DatabaseConnection, type Dialect, type Driver, type QueryCompiler, type QueryResult, type TransactionSettings } from 'kysely'
import { UnavailableError } from '../errors'
import { translateDbError, withinMs } from './errors'

export interface DriverGuards {
  /**
   * Waiting for a pooled connection ends after this many milliseconds with an UnavailableError
   * (503 + Retry-After). While the server is down, postgres.js queues each query until one of
   * its connections has reconnected; without a bound a request would wait out every reconnect
   * attempt and its client would give up first. Absent: no bound (PGlite's one connection).
   */
  acquireTimeoutMs?: number
  /** Kept up to date with the connections Kysely holds and the acquisitions still waiting. */
  pool?: { inUse: number; waiting: number }
  /**
   * Send a transaction's BEGIN together with its first statement, one round trip for both,
   * rather than waiting for BEGIN's answer first (postgres.js pipelines queries on a
   * connection). On an open, idle connection BEGIN fails only with the connection, which
   * fails the statement too; were it to fail otherwise, its error is what the caller gets, but
   * postgres.js syncs each query on its own, so the statement behind it would have run outside
   * a transaction. Only for a server: PGlite runs one query at a time anyway.
   */
  pipelineBegin?: boolean
  /**
   * A statement whose answer has not come this many milliseconds after it was sent fails with
   * an UnavailableError (503 + Retry-After): a server that stopped answering (hung, or behind
   * a network that drops every packet) cannot enforce its own statement_timeout, so without
   * this a request would wait without end. Set above the server's statement_timeout, so that a
   * statement the server ends is reported as the server reports it. The connection then
   * stays out of the pool until that answer (or the connection's end) comes, and is rolled
   * back before it goes back. A connection whose session was told `set statement_timeout = 0`
   * (the migrator's) has no bound until `reset statement_timeout`. Absent: no bound.
   */
  answerTimeoutMs?: number
}

/**
 * Wraps a dialect so that every query error passes through translateDbError, wherever it was
 * run, and acquiring a connection is bounded and counted as `guards` say. One plain object per
 * driver and per connection, no Proxy: this sits on the path of every query.
 */
export function withDriverGuards(dialect: Dialect, guards: DriverGuards = {}): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => new GuardedDriver(dialect.createDriver(), guards),
  }
}

const rethrow = (error: unknown): never => {
  throw translateDbError(error)
}

// Kysely's `log` option replaces executeQuery on the connection object it is given (this one),
// so the driver's own connection stays untouched and is what the driver gets back.
class GuardedConnection implements DatabaseConnection {
  /** A BEGIN already sent whose answer the next statement awaits (DriverGuards.pipelineBegin). */
  pendingBegin: Promise<void> | undefined
  /** A statement that outlived DriverGuards.answerTimeoutMs and is still unanswered: nothing else goes out behind it. */
  stuck: Promise<unknown> | undefined
  /** The session's statement_timeout is 0 (the migrator's): no answer timeout. */
  #unbounded = false

  constructor(
    readonly inner: DatabaseConnection,
    private readonly answerTimeoutMs: number | undefined,
  ) {}

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.stuck) return Promise.reject(unanswered())
    if (this.answerTimeoutMs !== undefined) {
      if (/^\s*set\s+statement_timeout\s*(=|to)\s*0\s*$/i.test(query.sql)) this.#unbounded = true
      else if (/^\s*reset\s+statement_timeout\s*$/i.test(query.sql)) this.#unbounded = false
    }
    const begin = this.pendingBegin
    if (!begin) return this.bounded(this.inner.executeQuery<R>(query)).catch(rethrow)
    this.pendingBegin = undefined
    // Sent now, right behind the BEGIN; the statement's own outcome counts only once BEGIN succeeded.
    const result = this.bounded(this.inner.executeQuery<R>(query))
    return begin
      .then(
        () => result,
        (error) => {
          result.catch(() => {})
          throw error
        },
      )
      .catch(rethrow)
  }

  /** `answer`, or an UnavailableError once answerTimeoutMs have passed without it (then the connection is stuck until it comes). */
  bounded<T>(answer: Promise<T>): Promise<T> {
    const ms = this.#unbounded ? undefined : this.answerTimeoutMs
    if (ms === undefined) return answer
    return withinMs(answer, ms, UNANSWERED, () => {
      this.stuck = answer.catch(() => {})
    })
  }

  /** Waits for a pipelined BEGIN's answer (before a COMMIT, ROLLBACK, savepoint or stream). */
  async settleBegin(): Promise<void> {
    const begin = this.pendingBegin
    this.pendingBegin = undefined
    await begin
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      await this.settleBegin()
      yield* this.inner.streamQuery<R>(query, chunkSize)
    } catch (error) {
      rethrow(error)
    }
  }
}

const unguarded = (connection: DatabaseConnection) => (connection as GuardedConnection).inner

const UNANSWERED = 'database unavailable: the server did not answer in time'
const unanswered = () => new UnavailableError(UNANSWERED)

class GuardedDriver implements Driver {
  // PGlite lends one connection object again and again: it keeps one wrapper.
  readonly #wrappers = new WeakMap<DatabaseConnection, GuardedConnection>()

  constructor(
    private readonly driver: Driver,
    private readonly guards: DriverGuards,
  ) {}

  init(): Promise<void> {
    return this.driver.init()
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const { pool, acquireTimeoutMs } = this.guards
    if (pool) pool.waiting++
    let connection: DatabaseConnection
    try {
      connection = await (acquireTimeoutMs === undefined ? this.driver.acquireConnection() : acquireWithin(this.driver, acquireTimeoutMs)).catch(rethrow)
    } finally {
      if (pool) pool.waiting--
    }
    if (pool) pool.inUse++
    let wrapper = this.#wrappers.get(connection)
    if (!wrapper) {
      wrapper = new GuardedConnection(connection, this.guards.answerTimeoutMs)
      this.#wrappers.set(connection, wrapper)
    }
    return wrapper
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const stuck = (connection as GuardedConnection).stuck
    if (stuck) {
      // Back to the pool only once its statement is answered, and out of any transaction it was in.
      void stuck
        .then(() => unguarded(connection).executeQuery(CompiledQuery.raw('rollback')))
        .catch(() => {})
        .finally(() => {
          ;(connection as GuardedConnection).stuck = undefined
          if (this.guards.pool) this.guards.pool.inUse--
          return this.driver.releaseConnection(unguarded(connection))
        })
      return
    }
    if (this.guards.pool) this.guards.pool.inUse--
    await this.driver.releaseConnection(unguarded(connection))
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const begin = this.driver.beginTransaction(unguarded(connection), settings)
    if (!this.guards.pipelineBegin) return begin.catch(rethrow)
    // Sent already; its answer is awaited with the next statement's.
    begin.catch(() => {})
    ;(connection as GuardedConnection).pendingBegin = begin
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const guarded = connection as GuardedConnection
    if (guarded.stuck) throw unanswered()
    await guarded.settleBegin().catch(rethrow)
    return guarded.bounded(this.driver.commitTransaction(unguarded(connection))).catch(rethrow)
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const guarded = connection as GuardedConnection
    // Rolled back when its statement is answered, before it goes back to the pool (releaseConnection).
    if (guarded.stuck) throw unanswered()
    // A BEGIN that failed left no transaction; ROLLBACK is still sent (it only warns then).
    await guarded.settleBegin().catch(() => {})
    return guarded.bounded(this.driver.rollbackTransaction(unguarded(connection))).catch(rethrow)
  }

  savepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#savepointCall('savepoint', connection, name, compileQuery)
  }

  rollbackToSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#savepointCall('rollbackToSavepoint', connection, name, compileQuery)
  }

  releaseSavepoint(connection: DatabaseConnection, name: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    return this.#savepointCall('releaseSavepoint', connection, name, compileQuery)
  }

  destroy(): Promise<void> {
    return this.driver.destroy()
  }

  async #savepointCall(
    method: 'savepoint' | 'rollbackToSavepoint' | 'releaseSavepoint',
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    const call = this.driver[method]
    // Kysely's own message for a driver without savepoints.
    if (!call) throw new Error(`The \`${method}\` method is not supported by this driver`)
    await (connection as GuardedConnection).settleBegin().catch(rethrow)
    return call.call(this.driver, unguarded(connection), name, compileQuery).catch(rethrow)
  }
}

/** The driver's next connection, or an UnavailableError after `timeoutMs`; one that arrives later goes straight back to the pool. */
function acquireWithin(driver: Driver, timeoutMs: number): Promise<DatabaseConnection> {
  const pending = driver.acquireConnection()
  return withinMs(pending, timeoutMs, 'database unavailable: no connection became free in time', () =>
    pending.then(
      (connection) => driver.releaseConnection(connection),
      () => {},
    ),
  )
}
