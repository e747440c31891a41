import { dlopen, FFIType, type Library } from 'bun:ffi'
import { accessSync, closeSync, constants, existsSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { CompiledQuery, type DatabaseConnection, Kysely, type LogEvent } from 'kysely'
import { PostgresJSDialect, type PostgresJSDialectConfig, PostgresJSDriver } from 'kysely-postgres-js'
import postgres, { type Sql } from 'postgres'
import type { DatabaseConfig } from '../config'
import { fsProblem } from '../file-checks'
import { withDriverGuards } from './guarded-driver'
import { PGliteDialect } from './pglite-dialect'
import type { DB } from './types'

const INT8_OID = 20
/** How long after the server's statement_timeout a statement still unanswered is given up on this side (DriverGuards.answerTimeoutMs). */
export const ANSWER_MARGIN_MS = 2_000
/** How long closing the pool waits for queries still running before it closes their connections. */
const END_TIMEOUT_SECONDS = 5

export interface DatabaseOptions {
  /** Kysely's `log` option: called after every query with its duration. */
  log?: (event: LogEvent) => void
  /** Kept up to date with the connections Kysely holds and waits for. */
  pool?: { size: number; inUse: number; waiting: number }
}

// Every Kysely instance over embedded PGlite this process made (see isEmbedded).
const embedded = new WeakSet<Kysely<DB>>()

/**
 * Whether `db` runs on embedded PGlite, where one statement at a time runs for every request
 * of the process: a transaction held over many statements there stops all the others.
 */
export const isEmbedded = (db: Kysely<DB>): boolean => embedded.has(db)

/**
 * Opens the database the configuration names: a postgres.js pool for a server, or an
 * embedded PGlite. PGlite goes through PGliteDialect, which lends its single connection to one
 * holder at a time, so overlapping transactions never share one session.
 */
export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Kysely<DB> {
  const dialect =
    config.kind === 'pglite'
      ? withDriverGuards(new PGliteDialect({ pglite: openPGlite(config.dataDir) }), { pool: options.pool })
      : withDriverGuards(new PostgresDialect({ postgres: () => preparing(createPostgresClient(config), config.preparedStatements) }), {
          acquireTimeoutMs: config.acquireTimeoutMs ?? 3_000,
          pool: options.pool,
          pipelineBegin: true,
          // A hung server cannot end a statement at statement_timeout: this side does, a little later.
          answerTimeoutMs: config.statementTimeoutMs > 0 ? config.statementTimeoutMs + ANSWER_MARGIN_MS : undefined,
        })
  if (options.pool) options.pool.size = config.kind === 'pglite' ? 1 : config.maxConnections
  const db = new Kysely<DB>({ dialect, log: options.log })
  if (config.kind === 'pglite') embedded.add(db)
  return db
}

/**
 * kysely-postgres-js's driver inherits Kysely's PostgresDriver.rollbackTransaction, which, when
 * ROLLBACK fails (the connection is lost), calls a private method of Kysely's own connection
 * class that kysely-postgres-js's connection lacks: the caller got that TypeError (a 500)
 * instead of the lost connection's error (a 503). This driver's ROLLBACK fails with its own
 * error; postgres.js replaces a lost connection by itself.
 */
class PostgresDriver extends PostgresJSDriver {
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }
}

class PostgresDialect extends PostgresJSDialect {
  constructor(private readonly driverConfig: PostgresJSDialectConfig) {
    super(driverConfig)
  }

  override createDriver(): PostgresDriver {
    return new PostgresDriver(this.driverConfig)
  }
}

/**
 * kysely-postgres-js runs every query as `reserved.unsafe(sql, params)`, and postgres.js's
 * `unsafe` does not prepare by default, so each query was parsed and planned anew (about 3x
 * a prepared small select). This hands the dialect connections that prepare, unless
 * DATABASE_PREPARED_STATEMENTS=false (PgBouncer in transaction mode).
 */
function preparing(client: Sql, prepare: boolean) {
  return {
    // Without a timeout, postgres.js's end() never resolves when a reserve() was still queued
    // as it began; after END_TIMEOUT_SECONDS it closes the connections itself.
    end: () => client.end({ timeout: END_TIMEOUT_SECONDS }),
    async reserve() {
      const reserved = await client.reserve()
      return {
        release: () => reserved.release(),
        unsafe: (query: string, params?: Parameters<typeof reserved.unsafe>[1], options?: object) => reserved.unsafe(query, params, { prepare, ...options }),
      }
    },
  }
}

/** Whether `dataDir` holds an embedded database (PGlite's initdb has run there). */
export function embeddedDatabaseExists(dataDir: string): boolean {
  return existsSync(path.join(dataDir, 'PG_VERSION'))
}

/**
 * For commands that only read: one line when the configured database is an embedded one that
 * does not exist yet (opening it would create an empty one), else undefined.
 */
export function missingEmbeddedDatabase(config: DatabaseConfig): string | undefined {
  if (config.kind !== 'pglite' || embeddedDatabaseExists(config.dataDir)) return undefined
  return `there is no embedded database in ${config.dataDir} (GEARBOX_DATA_DIR; or set DATABASE_URL)`
}

/**
 * The embedded database in `dataDir` (`<GEARBOX_DATA_DIR>/db`), created if missing, locked
 * against other processes. Throws one line naming GEARBOX_DATA_DIR when it cannot be made.
 */
export function openPGlite(dataDir: string): PGlite {
  try {
    mkdirSync(dataDir, { recursive: true })
    accessSync(dataDir, constants.W_OK)
  } catch (error) {
    throw new Error(`GEARBOX_DATA_DIR: cannot use ${path.dirname(dataDir)}: ${fsProblem(error)}`)
  }
  lockDataDir(dataDir)
  return new PGlite(dataDir, pgliteOptions)
}

export function createPGliteDatabase(pglite: PGlite): Kysely<DB> {
  const db = new Kysely<DB>({ dialect: withDriverGuards(new PGliteDialect({ pglite })) })
  embedded.add(db)
  return db
}

/** Counts and sums come back as int8; both drivers hand them over as numbers, not strings. */
export const pgliteOptions = { parsers: { [INT8_OID]: (v: string) => Number(v) } }

export function createPostgresClient(config: Extract<DatabaseConfig, { kind: 'postgres' }>) {
  return postgres(config.url, {
    max: config.maxConnections,
    connect_timeout: config.connectTimeoutSeconds,
    // postgres.js waits 3^n/100 s (up to 20 s) before reconnect attempt n, and queued
    // queries wait with it: capped at 1 s, the app is back within a second of the server.
    backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1),
    prepare: config.preparedStatements,
    // A lock wait ends long before the statement timeout: api.md wants a 503 within a few seconds.
    connection: { statement_timeout: config.statementTimeoutMs, lock_timeout: config.lockTimeoutMs ?? 3_000, application_name: 'gearbox' },
    types: {
      int8: { to: INT8_OID, from: [INT8_OID], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
    onnotice: () => {},
  })
}

/**
 * PGlite has no locking between processes: a server and a migrate command opening one data
 * directory at once would corrupt it. The holder keeps an exclusive flock(2) on the lock file
 * for its whole life; the kernel drops it when the process dies, so a zombie, or a pid that
 * has since gone to another process, never counts as the holder. The file says whose it is.
 */
function lockDataDir(dataDir: string): void {
  const lockFile = `${dataDir}.lock`
  // This process may open its own directory again (flock would refuse a second descriptor).
  if (heldLocks.has(lockFile)) return
  for (;;) {
    const fd = openSync(lockFile, 'a+')
    if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      closeSync(fd)
      const owner = readFileSync(lockFile, 'utf8').trim() || 'unknown'
      throw new Error(`the embedded database ${dataDir} is in use by process ${owner}; stop it first, or set DATABASE_URL`)
    }
    // The previous holder may have removed the file between our open and our flock: then
    // we locked an unlinked file, and must lock the one now at the path.
    if (statSync(lockFile, { throwIfNoEntry: false })?.ino !== fstatSync(fd).ino) {
      closeSync(fd)
      continue
    }
    ftruncateSync(fd)
    writeSync(fd, String(process.pid), 0)
    // The descriptor stays open (and locked) until the process exits.
    heldLocks.add(lockFile)
    process.once('exit', () => rmSync(lockFile, { force: true }))
    return
  }
}

const heldLocks = new Set<string>()
const LOCK_EX = 2
const LOCK_NB = 4

/** flock(2) from the C library: 0 when the lock is taken, -1 when another holds it (or on error). */
function flock(fd: number, operation: number): number {
  libc ??= dlopen(process.platform === 'darwin' ? 'libc.dylib' : 'libc.so.6', { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } })
  return libc.symbols.flock(fd, operation)
}
let libc: Library<{ flock: { args: [FFIType.i32, FFIType.i32]; returns: FFIType.i32 } }> | undefined
