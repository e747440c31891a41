import { AsyncLocalStorage } from 'node:async_hooks'
import { createRequire } from 'node:module'
import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { LogEvent } from 'kysely'
import pino, { type Logger } from 'pino'
import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export type { Logger }
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * The process's logger: pino, one JSON object per line on stdout. On a terminal (and when the
 * dev dependency pino-pretty is installed) the same records are printed readably instead.
 * Nothing here ever logs headers, bodies or query parameters, so no password, cookie, API
 * key, token or code can reach the log.
 */
export function createLogger(level: LogLevel): Logger {
  const options = { level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }
  const pretty = process.stdout.isTTY ? prettyStream() : undefined
  return pino(options, pretty ?? batchedStdout())
}

/**
 * stdout, written once per turn of the event loop: lines logged meanwhile go out together, so
 * under load a request does not pay a write(2) of its own for its line (a fifth of a small
 * request's CPU when stdout is a pipe). Each write is synchronous, so none is ever left in
 * flight: what is pending when the process exits (process.exit included) is written then.
 * (sonic-boom's asynchronous mode left its last write queued for a worker thread, and exiting
 * while the workers were busy lost it: the 'stopped' line after SIGTERM, say.)
 */
function batchedStdout(): { write(line: string): void } {
  const out = pino.destination({ dest: 1, sync: true })
  let pending = ''
  const flush = () => {
    const text = pending
    pending = ''
    if (text) out.write(text)
  }
  process.on('exit', flush)
  return {
    write(line) {
      if (!pending) setImmediate(flush)
      pending += line
    },
  }
}

/** pino-pretty's stream, when the dev dependency is installed (never in the Docker image). */
function prettyStream(): NodeJS.WritableStream | undefined {
  try {
    const pretty = createRequire(import.meta.url)('pino-pretty') as (options: object) => NodeJS.WritableStream
    return pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l' })
  } catch {
    return undefined
  }
}

/** Connections of the database pool as Kysely sees them: `size` is the maximum. */
export interface PoolStats {
  size: number
  inUse: number
  waiting: number
}

/** The Prometheus metrics GearBox exports at GET /metrics (prom-client, its own registry). */
export class Metrics {
  readonly registry = new Registry()
  readonly requests = new Counter({
    name: 'gearbox_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  })
  readonly requestDuration = new Histogram({
    name: 'gearbox_http_request_duration_seconds',
    help: 'Time from receiving a request to its response, by method and route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  })
  readonly queryDuration = new Histogram({
    name: 'gearbox_db_query_duration_seconds',
    help: 'Database query durations (Kysely), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  })

  /**
   * `pool` is read at every scrape; `pendingMigrations` is asked at every scrape (a failure,
   * such as the database being down, leaves the gauge at its last value).
   */
  constructor(pool: PoolStats, pendingMigrations: () => Promise<number>) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read())
        },
      })
    gauge('gearbox_db_pool_size', 'Maximum connections of the database pool.', () => pool.size)
    gauge('gearbox_db_pool_in_use', 'Pool connections currently held by a query or transaction.', () => pool.inUse)
    gauge('gearbox_db_pool_waiting', 'Queries or transactions waiting for a pool connection.', () => pool.waiting)
    new Gauge({
      name: 'gearbox_migrations_pending',
      help: 'Migrations on disk that the database has not applied.',
      registers: [this.registry],
      async collect() {
        try {
          this.set(await pendingMigrations())
        } catch {}
      },
    })
  }
}

const current = new AsyncLocalStorage<Context>()

/**
 * The route pattern a request matched (`/api/items/:id`): its first matching handler (not a
 * middleware, which Hono registers for method ALL), so a request a middleware answers (a 401)
 * still counts under its route; `unmatched` for no route. Patterns, never paths, keep the
 * metric labels bounded.
 */
const routeOf = (c: Context) => matchedRoutes(c).find((r) => r.method !== 'ALL')?.path ?? 'unmatched'

/** `POST /api/auth/login`: the request being served, if any. */
function currentRoute(): string | undefined {
  const c = current.getStore()
  return c ? `${c.req.method} ${routeOf(c)}` : undefined
}

/**
 * Hono middleware: one log line per request (method, path without its query string, status,
 * duration in ms, request id) and the request metrics. Runs after `requestId()`.
 */
export function observeRequests(log: Logger, metrics?: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now()
    await current.run(c, next)
    const seconds = (performance.now() - start) / 1000
    const status = c.res.status
    log.info({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path, status, durationMs: Math.round(seconds * 10000) / 10 }, 'request')
    if (!metrics) return
    const route = routeOf(c)
    metrics.requests.inc({ method: c.req.method, route, status })
    metrics.requestDuration.observe({ method: c.req.method, route }, seconds)
  }
}

/**
 * Kysely's `log` option: every query's duration goes to the histogram; a query slower than
 * `slowQueryMs` (0: never) is logged with its duration, its route and the start of its SQL
 * (parameters are never logged).
 */
export function queryObserver(log: Logger, slowQueryMs: number, metrics?: Metrics): (event: LogEvent) => void {
  return (event) => {
    const ms = event.queryDurationMillis
    metrics?.queryDuration.observe({ outcome: event.level === 'error' ? 'error' : 'ok' }, ms / 1000)
    if (slowQueryMs > 0 && ms >= slowQueryMs) {
      log.warn({ durationMs: Math.round(ms * 10) / 10, route: currentRoute(), sql: event.query.sql.slice(0, 200) }, 'slow query')
    }
  }
}
