import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { type DatabaseConnection, type Dialect, type Driver, Kysely, type LogEvent, PGliteDialect } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres from 'postgres'
import type { DatabaseConfig } from '../config'
import { withErrorTranslation } from './errors'
import type { DB } from './types'

const INT8_OID = 20

export interface DatabaseOptions {
  /** Kysely's `log` option: called after every query with its duration. */
  log?: (event: LogEvent) => void
  /** Kept up to date with the connections Kysely holds and waits for. */
  pool?: { size: number; inUse: number; waiting: number }
}

/**
 * Opens the database the configuration names: a postgres.js pool for a server, or an
 * embedded PGlite. PGlite goes through Kysely's own PGliteDialect, which holds a mutex
 * around its single connection, so overlapping transactions never share one session.
 */
export function createDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Kysely<DB> {
  const dialect =
    config.kind === 'pglite'
      ? new PGliteDialect({ pglite: openPGlite(config.dataDir) })
      : new PostgresJSDialect({ postgres: createPostgresClient(config) })
  if (options.pool) options.pool.size = config.kind === 'pglite' ? 1 : config.maxConnections
  const counted = options.pool ? withPoolStats(dialect, options.pool) : dialect
  return new Kysely<DB>({ dialect: withErrorTranslation(counted), log: options.log })
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

/** A file system error in words, with its code: `not a directory (ENOTDIR)`. */
function fsProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  const words: Record<string, string> = {
    ENOTDIR: 'a path component is a file, not a directory',
    EEXIST: 'a file is in the way of the directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  }
  return code && words[code] ? `${words[code]} (${code})` : error instanceof Error ? error.message : String(error)
}

/** Counts, in `stats`, the connections Kysely holds and the acquisitions still waiting. */
function withPoolStats(dialect: Dialect, stats: { inUse: number; waiting: number }): Dialect {
  const countingDriver = (driver: Driver): Driver =>
    new Proxy(driver, {
      get(target, prop) {
        if (prop === 'acquireConnection') {
          return async (): Promise<DatabaseConnection> => {
            stats.waiting++
            try {
              const connection = await target.acquireConnection()
              stats.inUse++
              return connection
            } finally {
              stats.waiting--
            }
          }
        }
        if (prop === 'releaseConnection') {
          return async (connection: DatabaseConnection) => {
            stats.inUse--
            await target.releaseConnection(connection)
          }
        }
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => countingDriver(dialect.createDriver()),
  }
}

export function createPGliteDatabase(pglite: PGlite): Kysely<DB> {
  return new Kysely<DB>({ dialect: withErrorTranslation(new PGliteDialect({ pglite })) })
}

/** Counts and sums come back as int8; both drivers hand them over as numbers, not strings. */
export const pgliteOptions = { parsers: { [INT8_OID]: (v: string) => Number(v) } }

export function createPostgresClient(config: Extract<DatabaseConfig, { kind: 'postgres' }>) {
  return postgres(config.url, {
    max: config.maxConnections,
    connect_timeout: config.connectTimeoutSeconds,
    prepare: config.preparedStatements,
    connection: { statement_timeout: config.statementTimeoutMs, application_name: 'gearbox' },
    types: {
      int8: { to: INT8_OID, from: [INT8_OID], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
    },
    onnotice: () => {},
  })
}

/**
 * PGlite has no locking between processes: a server and a migrate command opening one data
 * directory at once would corrupt it. The lock file holds the owner's pid; a stale one
 * (its process is gone) is taken over.
 */
function lockDataDir(dataDir: string): void {
  const lockFile = `${dataDir}.lock`
  try {
    writeFileSync(lockFile, String(process.pid), { flag: 'wx' })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    const owner = Number(readFileSync(lockFile, 'utf8'))
    if (owner && owner !== process.pid && isRunning(owner)) {
      throw new Error(`the embedded database ${dataDir} is in use by process ${owner}; stop it first, or set DATABASE_URL`)
    }
    writeFileSync(lockFile, String(process.pid))
  }
  process.once('exit', () => rmSync(lockFile, { force: true }))
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
