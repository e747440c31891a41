import { type Kysely, sql } from 'kysely'
import type { DatabaseConfig } from '../config'
import { createDatabase } from './database'
import { isConnectionFailure } from './errors'
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

/** Where a postgres.js connection goes: the URL's host and port, else libpq's PGHOST/PGPORT, else its defaults. */
export function serverAddress(url: string, env: Record<string, string | undefined> = process.env): { host: string; port: number } {
  const parsed = new URL(url)
  return {
    host: decodeURIComponent(parsed.hostname) || env.PGHOST || 'localhost',
    port: Number(parsed.port || env.PGPORT || 5432),
  }
}

const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  CONNECT_TIMEOUT: 'no answer within DATABASE_CONNECT_TIMEOUT_S',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOTDIR: 'a path component is not a directory',
  EROFS: 'read-only file system',
  '57P03': 'the server is starting up or shutting down',
  '57P01': 'the server is shutting down, or ended this session',
  '57P02': 'the server ended every session after a crash',
  CONNECTION_CLOSED: 'the connection closed',
  CONNECTION_ENDED: 'the connection was ended',
  CONNECTION_DESTROYED: 'the connection was destroyed',
  '53300': 'too many connections',
}

/**
 * The root cause of a failed connection in a few words, with its code: `connection refused
 * (ECONNREFUSED)`. Looks through the domain errors that wrap driver errors (errors.ts).
 */
export function connectionCause(error: unknown): string {
  let e = error
  while (e instanceof Error && (e as { code?: unknown }).code === undefined && e.cause) e = e.cause
  const code = (e as { code?: unknown } | null)?.code
  if (typeof code === 'string' && CAUSES[code]) return `${CAUSES[code]} (${code})`
  const message = e instanceof Error ? e.message : String(e)
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
}

/** The code of `error` (a SQLSTATE, an errno name, a driver's), or of the error it wraps. */
const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code ?? (error as { cause?: { code?: unknown } } | null)?.cause?.code

/** One line saying which variable names the database, where it is, and why it cannot be used. */
export function connectionProblem(config: DatabaseConfig, error: unknown): string {
  const code = codeOf(error)
  if (config.kind === 'pglite') {
    // The lock refusal (database.ts) is already a complete sentence.
    return code ? `GEARBOX_DATA_DIR: cannot open the embedded database in ${config.dataDir}: ${connectionCause(error)}` : connectionCause(error)
  }
  const { host, port } = serverAddress(config.url)
  return `DATABASE_URL: cannot connect to PostgreSQL at ${host}:${port} (${redactedUrl(config.url)}): ${connectionCause(error)}`
}

/**
 * Codes of a connection that could not be made, rather than one lost on the way: the SQLSTATEs
 * the server answers a connection with that DATABASE_URL can fix (no such database, no such
 * role, a wrong password), and the network's (no such host, nobody listening, no answer).
 */
const REFUSED_CONNECTION = new Set(['3D000', '28000', '28P01', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'CONNECT_TIMEOUT'])

/**
 * A command's one line for `error` once the database was open (or first used): a connection
 * lost on the way names the variable, the server and the cause (`DATABASE_URL: lost the
 * connection to PostgreSQL at db:5432: the connection closed (CONNECTION_CLOSED)`) rather than
 * the driver's text, and so does a connection that could not be made (`DATABASE_URL: cannot
 * connect to PostgreSQL at …: database "gearbox" does not exist (3D000)`, `… host name not found
 * (ENOTFOUND)`); any other error is its message.
 */
export function failureLine(config: DatabaseConfig, error: unknown): string {
  const code = codeOf(error)
  if (config.kind === 'postgres' && typeof code === 'string' && REFUSED_CONNECTION.has(code)) return connectionProblem(config, error)
  if (config.kind === 'postgres' && isConnectionFailure(error)) {
    const { host, port } = serverAddress(config.url)
    return `DATABASE_URL: lost the connection to PostgreSQL at ${host}:${port}: ${connectionCause(error)}`
  }
  return error instanceof Error ? error.message : String(error)
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
