import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect } from 'kysely'
import { PostgresJSDialect } from 'kysely-postgres-js'
import postgres, { type Sql } from 'postgres'
import type { DatabaseConfig } from '../config'
import { withErrorTranslation } from './errors'
import type { DB } from './types'

const INT8_OID = 20

/**
 * Opens the database the configuration names: a postgres.js pool for a server, or an
 * embedded PGlite. PGlite goes through Kysely's own PGliteDialect, which holds a mutex
 * around its single connection, so overlapping transactions never share one session.
 */
export function createDatabase(config: DatabaseConfig): Kysely<DB> {
  if (config.kind === 'pglite') return createPGliteDatabase(openPGlite(config.dataDir))
  const client = createPostgresClient(config)
  return new Kysely<DB>({ dialect: withErrorTranslation(new PostgresJSDialect({ postgres: () => preparing(client, config.preparedStatements) })) })
}

/**
 * kysely-postgres-js runs every query as `reserved.unsafe(sql, params)`, and postgres.js's
 * `unsafe` does not prepare by default, so each query was parsed and planned anew (about 3x
 * a prepared small select). This hands the dialect connections that prepare, unless
 * DATABASE_PREPARED_STATEMENTS=false (PgBouncer in transaction mode).
 */
function preparing(client: Sql, prepare: boolean) {
  return {
    end: () => client.end(),
    async reserve() {
      const reserved = await client.reserve()
      return {
        release: () => reserved.release(),
        unsafe: (query: string, params?: any[], options?: object) => reserved.unsafe(query, params, { prepare, ...options }),
      }
    },
  }
}

/** The embedded database in `dataDir`, created if missing, locked against other processes. */
export function openPGlite(dataDir: string): PGlite {
  mkdirSync(dataDir, { recursive: true })
  lockDataDir(dataDir)
  return new PGlite(dataDir, pgliteOptions)
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
