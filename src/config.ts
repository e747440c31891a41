import { z } from 'zod'
import type { LogLevel } from './observability'

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1')

const integer = () => z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number')
const positiveInt = (fallback: number) => integer().positive('must be at least 1').default(fallback)

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .trim()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATABASE_MAX_CONNECTIONS: positiveInt(10),
  DATABASE_CONNECT_TIMEOUT_S: positiveInt(10),
  DATABASE_STATEMENT_TIMEOUT_MS: integer().nonnegative('must be 0 (off) or more').default(30_000),
  DATABASE_PREPARED_STATEMENTS: flag(true),
  GEARBOX_DATA_DIR: z.string().min(1).default('./data'),
  GEARBOX_UPLOAD_DIR: z.string().min(1).optional(),
  PORT: integer().min(1, 'must be 1-65535').max(65535, 'must be 1-65535').default(3000),
  MIGRATE_ON_START: flag(true),
  DATABASE_STARTUP_ATTEMPTS: positiveInt(30),
  DATABASE_STARTUP_RETRY_DELAY_MS: integer().nonnegative('must be 0 or more').default(2000),
  SHUTDOWN_TIMEOUT_S: positiveInt(10),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SLOW_QUERY_MS: integer().nonnegative('must be 0 (off) or more').default(500),
  METRICS: flag(false),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional().or(z.literal('').transform(() => undefined)),
})

export type DatabaseConfig =
  | {
      kind: 'postgres'
      url: string
      maxConnections: number
      connectTimeoutSeconds: number
      statementTimeoutMs: number
      preparedStatements: boolean
    }
  | { kind: 'pglite'; dataDir: string }

export interface Config {
  database: DatabaseConfig
  uploadDir: string
  port: number
  migrateOnStart: boolean
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
          preparedStatements: e.DATABASE_PREPARED_STATEMENTS,
        }
      : { kind: 'pglite', dataDir: `${e.GEARBOX_DATA_DIR}/db` },
    uploadDir: e.GEARBOX_UPLOAD_DIR ?? `${e.GEARBOX_DATA_DIR}/uploads`,
    port: e.PORT,
    migrateOnStart: e.MIGRATE_ON_START,
    startup: { attempts: e.DATABASE_STARTUP_ATTEMPTS, retryDelayMs: e.DATABASE_STARTUP_RETRY_DELAY_MS },
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT_S,
    logLevel: e.LOG_LEVEL,
    slowQueryMs: e.SLOW_QUERY_MS,
    metrics: { enabled: e.METRICS, token: e.METRICS_TOKEN },
  }
}
