import { type Kysely, sql } from 'kysely'
import type { DatabaseConfig } from '../config'
import { createDatabase } from './database'
import type { DB } from './types'

/** A database that cannot be opened or reached; the message is one line naming the variable, where and why. */
export class DatabaseUnavailableError extends Error {}

/**
 * What a command acts on, for the line it prints first: the server's URL without the
 * password, or the embedded database's directory.
 */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.kind === 'pglite') return `the embedded database in ${config.dataDir}`
  return `PostgreSQL ${redactedUrl(config.url)}`
}

/** `url` with any password removed (the user name stays, it says which role connects). */
export function redactedUrl(url: string): string {
  const parsed = new URL(url)
  parsed.password = ''
  return parsed.toString()
}

const causes: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running, on this port?)',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a directory',
  EROFS: 'read-only file system',
}

/** One line saying which variable names the database, where it is, and why it cannot be used. */
export function connectionProblem(config: DatabaseConfig, error: unknown): string {
  // Kysely's error translation (errors.ts) wraps driver errors; the driver's code is on the cause.
  const root =
    (error as { code?: string; cause?: unknown }).code === undefined && (error as { cause?: unknown }).cause ? (error as { cause: unknown }).cause : error
  const { code, message } = root as { code?: string; message?: string }
  const cause = (code && causes[code]) ?? message ?? String(root)
  if (config.kind === 'pglite') {
    // The lock refusal (database.ts) is already a complete sentence.
    return code ? `GEARBOX_DATA_DIR: cannot open the embedded database in ${config.dataDir}: ${cause}` : cause
  }
  const url = new URL(config.url)
  const where = `${url.hostname || process.env.PGHOST || 'localhost'}:${url.port || process.env.PGPORT || 5432}`
  const timeout = code === 'CONNECT_TIMEOUT' ? `no answer within ${config.connectTimeoutSeconds} s (DATABASE_CONNECT_TIMEOUT_S)` : cause
  return `DATABASE_URL: cannot connect to PostgreSQL at ${where} (${redactedUrl(config.url)}): ${timeout}`
}

/**
 * Opens the configured database and checks that it answers. Throws DatabaseUnavailableError
 * (one line, see connectionProblem) when it cannot be opened or reached.
 */
export async function openCheckedDatabase(config: DatabaseConfig): Promise<Kysely<DB>> {
  let db: Kysely<DB> | undefined
  try {
    db = createDatabase(config)
    await sql`select 1`.execute(db)
    return db
  } catch (error) {
    await db?.destroy().catch(() => {})
    throw new DatabaseUnavailableError(connectionProblem(config, error))
  }
}
