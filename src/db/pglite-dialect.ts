import type { PGlite, Transaction } from '@electric-sql/pglite'
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely'

/**
 * Kysely dialect for an embedded PGlite (PostgreSQL 18 in WebAssembly). PGlite has one
 * session, so the driver hands out its one connection to one holder at a time (a whole
 * transaction holds it from BEGIN to COMMIT); overlapping requests wait their turn and every
 * transaction stays isolated. Transactions run in PGlite's own `transaction()`, which also
 * locks out code that uses the PGlite instance directly (the SQLite import). Kysely 0.29 ships
 * the same as `PGliteDialect`; 0.28, the line that still supports Node.js 20, does not.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly config: { pglite: PGlite }) {}
  createAdapter = () => new PostgresAdapter()
  createDriver = (): Driver => new PGliteDriver(this.config.pglite)
  createIntrospector: Dialect['createIntrospector'] = (db) => new PostgresIntrospector(db)
  createQueryCompiler = () => new PostgresQueryCompiler()
}

class PGliteDriver implements Driver {
  readonly #pglite: PGlite
  readonly #connection: PGliteConnection
  // The tail of the queue of holders; each releases the next when it lets go.
  #queue: Promise<void> = Promise.resolve()
  #release: (() => void) | undefined

  constructor(pglite: PGlite) {
    this.#pglite = pglite
    this.#connection = new PGliteConnection(pglite)
  }

  async init() {
    await this.#pglite.waitReady
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const previous = this.#queue
    const turn = Promise.withResolvers<void>()
    this.#queue = turn.promise
    await previous
    this.#release = turn.resolve
    return this.#connection
  }

  async releaseConnection() {
    const release = this.#release
    this.#release = undefined
    release?.()
  }

  beginTransaction = () => this.#connection.begin()
  commitTransaction = () => this.#connection.end('commit')
  rollbackTransaction = () => this.#connection.end('rollback')

  async destroy() {
    if (!this.#pglite.closed) await this.#pglite.close()
  }
}

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite
  #transaction: { tx: Transaction; end: ReturnType<typeof Promise.withResolvers<void>>; closed: Promise<void> } | undefined

  constructor(pglite: PGlite) {
    this.#pglite = pglite
  }

  async executeQuery<R>({ sql, parameters }: CompiledQuery): Promise<QueryResult<R>> {
    const { affectedRows, rows } = await (this.#transaction?.tx ?? this.#pglite).query<R>(sql, [...parameters], { rowMode: 'object' })
    return { numAffectedRows: affectedRows == null ? undefined : BigInt(affectedRows), rows }
  }

  // biome-ignore lint/correctness/useYield: PGlite cannot stream; Kysely's interface asks for a generator.
  async *streamQuery(): AsyncIterableIterator<QueryResult<never>> {
    throw new Error('PGlite does not stream query results')
  }

  /** Opens a PGlite transaction and keeps it open until `end` is called. */
  async begin() {
    const begun = Promise.withResolvers<Transaction>()
    const end = Promise.withResolvers<void>()
    const closed = this.#pglite.transaction(async (tx) => {
      begun.resolve(tx)
      await end.promise
    })
    // A failed BEGIN rejects `closed` before the callback runs.
    const tx = await Promise.race([begun.promise, closed.then(() => Promise.reject(new Error('transaction ended before it began')))])
    this.#transaction = { tx, end, closed }
  }

  /** Commits (or rolls back) the open transaction; a failed COMMIT throws PGlite's error. */
  async end(how: 'commit' | 'rollback') {
    const transaction = this.#transaction
    this.#transaction = undefined
    if (!transaction) return
    if (how === 'commit') {
      transaction.end.resolve()
      await transaction.closed
    } else {
      transaction.end.reject(new Error('rollback'))
      await transaction.closed.catch(() => {})
    }
  }
}
