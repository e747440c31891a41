// The server process. Start-up prints each step (configuration, database, migrations,
// listening); anything that stops it is one line on stderr and exit status 1. SIGTERM and
// SIGINT stop it gracefully: no new connections, requests in flight finish (within
// SHUTDOWN_TIMEOUT_S), the pool is closed, the embedded database's lock is released.
import type { Kysely } from 'kysely'
import { type Config, loadConfig } from './config'
import { serverAddress } from './db/connection'
import { createDatabase, embeddedDatabaseExists } from './db/database'
import { withinMs } from './db/errors'
import { migrateToLatest, pendingMigrations } from './db/migrator'
import { waitForDatabase } from './db/startup'
import type { DB } from './db/types'
import { unwritableFolderProblem } from './file-checks'
import type { HttpServer } from './http-server'
import { createLogger, Metrics, type PoolStats, queryObserver } from './observability'
import { READY_TIMEOUT_MS } from './services/health-service'

function fail(text: string): never {
  console.error(`gearbox: ${text}`)
  process.exit(1)
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

let config: Config
try {
  config = loadConfig()
} catch (error) {
  fail(message(error))
}
const log = createLogger(config.logLevel)
// An upload folder of its own is checked as the data directory is (which holds the default
// one): otherwise every upload failed, with the server ready.
const uploadsProblem = process.env.GEARBOX_UPLOAD_DIR ? unwritableFolderProblem(config.uploadDir) : undefined
if (uploadsProblem) fail(`GEARBOX_UPLOAD_DIR: cannot store images in ${config.uploadDir}: ${uploadsProblem}`)
const where =
  config.database.kind === 'postgres'
    ? (({ host, port }) => `PostgreSQL at ${host}:${port} (DATABASE_URL)`)(serverAddress(config.database.url))
    : `embedded PGlite in ${config.database.dataDir}`
log.info({ port: config.port, database: where, logLevel: config.logLevel, metrics: config.metrics.enabled }, 'configuration loaded')

let db: Kysely<DB> | undefined
let server: HttpServer | undefined
let migrating = false
let stopping: Promise<void> | undefined

/** Stops accepting, lets requests in flight finish (at most SHUTDOWN_TIMEOUT_S), closes the pool, exits 0. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    if (server) {
      const listening = server
      log.info(`stopping: waiting up to ${config.shutdownTimeoutSeconds} s for requests in flight`)
      const deadline = setTimeout(() => {
        log.warn(`requests still running after ${config.shutdownTimeoutSeconds} s (SHUTDOWN_TIMEOUT_S): closing their connections`)
        void listening.stop(true)
      }, config.shutdownTimeoutSeconds * 1000)
      await listening.stop()
      clearTimeout(deadline)
    }
    await db?.destroy()
    log.info('stopped')
    process.exit(0)
  })()
  return stopping
}

let signalled = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log.info(`${signal} received`)
    signalled = true
    // A migration under way is never cut off: start-up stops right after it.
    if (!migrating) void stop()
  })
}

log.info(`opening the database: ${where}`)
// initdb runs inside PGlite on a new directory: the slowest step of a first start.
if (config.database.kind === 'pglite' && !embeddedDatabaseExists(config.database.dataDir)) {
  log.info(`creating a new embedded database in ${config.database.dataDir} (first start; this takes a few seconds)`)
}
const pool: PoolStats = { size: 0, inUse: 0, waiting: 0 }
let metrics: Metrics | undefined
try {
  db = createDatabase(config.database, { log: (event) => observeQuery(event), pool })
} catch (error) {
  fail(message(error))
}
// The routes, services and HTTP server load while the database opens (PGlite compiles its
// WebAssembly and starts its backend asynchronously): start-up pays for the slower of the two.
const loading = Promise.all([import('./app'), import('./services'), import('./http-server')])
const open = db
// Within the readiness check's time: a scrape must not hang on a database that stopped answering.
if (config.metrics.enabled)
  metrics = new Metrics(pool, async () => (await withinMs(pendingMigrations(open), READY_TIMEOUT_MS, 'the database did not answer')).length)
const observeQuery = queryObserver(log, config.slowQueryMs, metrics)

try {
  await waitForDatabase(config.database, config.startup, (line, detail) => log.warn(detail, line))
} catch (error) {
  if (!stopping) fail(message(error))
}

if (config.migrateOnStart && !stopping) {
  log.info('migrating: checking for pending migrations')
  migrating = true
  try {
    // Reading the applied list takes no lock; only pending migrations need the migrator's.
    const pending = await pendingMigrations(db)
    if (pending.length > 0) {
      log.info(`migrating: applying ${pending.length} pending migration(s)`)
      await migrateToLatest(db)
    }
  } catch (error) {
    fail(`could not migrate ${where}: ${message(error)}`)
  }
  migrating = false
  log.info('migrations are up to date')
  if (signalled) await stop()
} else if (!config.migrateOnStart) {
  log.info('MIGRATE_ON_START=false: not migrating')
}

if (!stopping) {
  const [{ createApp }, { createServices }, { listen }] = await loading
  const app = createApp({
    services: createServices(db, {
      uploadDir: config.uploadDir,
      loginThrottle: config.loginThrottle,
      gearboxUrl: config.gearboxUrl,
      embeddedDataDir: config.database.kind === 'pglite' ? config.database.dataDir : undefined,
    }),
    trustProxy: config.trustProxy,
    log,
    metrics: metrics && { metrics, token: config.metrics.token },
  })
  try {
    // What the HTTP layer answers itself (a refusal, a 408, a malformed request) is logged and counted like the app's answers.
    server = await listen(app.fetch, config.port, undefined, {
      onEarlyAnswer: ({ method = 'unknown', path, status }) => {
        log.info({ method, path, status }, 'request')
        metrics?.requests.inc({ method, route: 'unmatched', status })
      },
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    fail(code === 'EADDRINUSE' ? `PORT=${config.port}: the port is already in use (EADDRINUSE)` : `PORT=${config.port}: cannot listen: ${message(error)}`)
  }
  log.info(`GearBox listening on http://localhost:${server.port} (database: ${where})`)
}
