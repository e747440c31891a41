import { z } from 'zod'
import type { LogLevel } from './observability'

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1')

/** setTimeout's longest delay in milliseconds (2^31 - 1, about 24.8 days); also PostgreSQL's largest integer. */
const MAX_MS = 2_147_483_647
/** The longest time in seconds whose milliseconds a timer still holds. */
const MAX_S = Math.floor(MAX_MS / 1000)

/**
 * A whole number written in decimal digits (a blank value, `0x1F`, `8e3` or `1.5` is refused,
 * never read as 0 or as another number), from `min` (`minMessage` below it) to `max`: every
 * number GearBox reads ends up in a timer or a PostgreSQL integer, which overflow above it.
 */
const integer = (min: number, minMessage: string, max = MAX_MS) =>
  z
    .string()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, minMessage).max(max, `must be at most ${max}`))
const positiveInt = (fallback: number, max = MAX_MS) => integer(1, 'must be at least 1', max).default(fallback)
const nonnegativeInt = (fallback: number, message = 'must be 0 (off) or more') => integer(0, message).default(fallback)

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Every environment variable GearBox reads, with its rule and default (the README's Configuration table lists each). */
export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    // One problem at a time; a port over 65535 or a stray character would otherwise fail later, where the URL is read.
    .superRefine((u, ctx) => {
      if (u === '') return
      if (!/^postgres(ql)?:\/\//.test(u)) ctx.addIssue({ code: 'custom', message: 'must start with postgres:// or postgresql://' })
      else if (!URL.canParse(u))
        ctx.addIssue({ code: 'custom', message: 'must be a valid URL (a port from 1 to 65535; characters such as @ / # in a password percent-encoded)' })
    })
    // Blank is unset.
    .transform((u) => u || undefined)
    .optional(),
  DATABASE_MAX_CONNECTIONS: positiveInt(10, 10_000),
  DATABASE_CONNECT_TIMEOUT_S: positiveInt(10, MAX_S),
  DATABASE_STATEMENT_TIMEOUT_MS: nonnegativeInt(30_000),
  DATABASE_LOCK_TIMEOUT_MS: nonnegativeInt(3_000),
  DATABASE_ACQUIRE_TIMEOUT_MS: positiveInt(3_000),
  DATABASE_PREPARED_STATEMENTS: flag(true),
  GEARBOX_DATA_DIR: z.string().min(1, 'must not be empty').default('./data'),
  GEARBOX_UPLOAD_DIR: z.string().min(1, 'must not be empty').optional(),
  PORT: integer(1, 'must be 1-65535', 65535).default(3000),
  MIGRATE_ON_START: flag(true),
  GEARBOX_TRUST_PROXY: flag(false),
  GEARBOX_LOGIN_MAX_ATTEMPTS: positiveInt(5),
  GEARBOX_LOGIN_WINDOW_S: positiveInt(15 * 60, MAX_S),
  GEARBOX_LOGIN_THROTTLE_MAX_ROWS: positiveInt(10_000),
  // The OAuth issuer must be exactly an origin (RFC 8414 section 2 forbids query and fragment).
  GEARBOX_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((u) => {
      if (!URL.canParse(u)) return true // reported by the URL check already
      const url = new URL(u)
      return url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password && !u.endsWith('?') && !u.endsWith('#')
    }, 'must be an origin such as https://gear.example.com (no path, query or fragment)')
    .transform((u) => new URL(u).origin)
    .optional(),
  DATABASE_STARTUP_ATTEMPTS: positiveInt(30),
  DATABASE_STARTUP_RETRY_DELAY_MS: nonnegativeInt(2000, 'must be 0 or more'),
  SHUTDOWN_TIMEOUT_S: positiveInt(10, MAX_S),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  SLOW_QUERY_MS: nonnegativeInt(500),
  METRICS: flag(false),
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
})

export type DatabaseConfig =
  | {
      kind: 'postgres'
      url: string
      maxConnections: number
      connectTimeoutSeconds: number
      statementTimeoutMs: number
      /** Server-side lock_timeout for the app's statements (0: off); default 3000 ms. Bulk loaders and migrations wait as long as it takes. */
      lockTimeoutMs?: number
      preparedStatements: boolean
      /** How long a query waits for a pooled connection before it is a 503; default 3000 ms. */
      acquireTimeoutMs?: number
    }
  | { kind: 'pglite'; dataDir: string }

/** Failed sign-ins allowed per username and client address within a window, and the cap on stored counts. */
export interface LoginThrottle {
  maxAttempts: number
  windowSeconds: number
  maxRows: number
}

export interface Config {
  database: DatabaseConfig
  uploadDir: string
  port: number
  migrateOnStart: boolean
  /** Behind a reverse proxy: the client address is the last X-Forwarded-For entry, which that proxy appended. */
  trustProxy: boolean
  loginThrottle: LoginThrottle
  /** Public base URL (an origin, no trailing slash): the OAuth issuer; the MCP resource is `<gearboxUrl>/mcp`. */
  gearboxUrl: string
  /** Connecting at start-up: tries, and the wait between two tries. */
  startup: { attempts: number; retryDelayMs: number }
  /** How long SIGTERM waits for requests in flight before closing anyway. */
  shutdownTimeoutSeconds: number
  logLevel: LogLevel
  /** Queries slower than this are logged; 0 turns it off. */
  slowQueryMs: number
  /** GET /metrics: off unless enabled; with a token, only `Authorization: Bearer <token>` may read it. */
  metrics: { enabled: boolean; token?: string }
}

export class ConfigError extends Error {}

/** Reads the environment once. Throws ConfigError whose message names every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`)
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`)
  }
  const e = parsed.data
  return {
    database: e.DATABASE_URL
      ? {
          kind: 'postgres',
          url: e.DATABASE_URL,
          maxConnections: e.DATABASE_MAX_CONNECTIONS,
          connectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT_S,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          lockTimeoutMs: e.DATABASE_LOCK_TIMEOUT_MS,
          preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
          acquireTimeoutMs: e.DATABASE_ACQUIRE_TIMEOUT_MS,
        }
      : { kind: 'pglite', dataDir: `${e.GEARBOX_DATA_DIR}/db` },
    uploadDir: e.GEARBOX_UPLOAD_DIR ?? `${e.GEARBOX_DATA_DIR}/uploads`,
    port: e.PORT,
    migrateOnStart: e.MIGRATE_ON_START,
    trustProxy: e.GEARBOX_TRUST_PROXY,
    loginThrottle: {
      maxAttempts: e.GEARBOX_LOGIN_MAX_ATTEMPTS,
      windowSeconds: e.GEARBOX_LOGIN_WINDOW_S,
      maxRows: e.GEARBOX_LOGIN_THROTTLE_MAX_ROWS,
    },
    gearboxUrl: e.GEARBOX_URL ?? `http://localhost:${e.PORT}`,
    startup: { attempts: e.DATABASE_STARTUP_ATTEMPTS, retryDelayMs: e.DATABASE_STARTUP_RETRY_DELAY_MS },
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_S,
    logLevel: e.LOG_LEVEL,
    slowQueryMs: e.SLOW_QUERY_MS,
    metrics: { enabled: e.METRICS, token: e.METRICS_TOKEN },
  }
}
