import { describe, expect, test } from 'bun:test'
import { ConfigError, type DatabaseConfig, envSchema, loadConfig } from '../src/config'
import { createPostgresClient } from '../src/db/database'

type PostgresConfig = Extract<DatabaseConfig, { kind: 'postgres' }>

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as ConfigError).message
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`)
}

describe('loadConfig', () => {
  test('start-up, shutdown, logging and metrics: defaults, and every variable read', () => {
    expect(loadConfig({})).toMatchObject({
      startup: { attempts: 30, retryDelayMs: 2000 },
      shutdownTimeoutSeconds: 10,
      logLevel: 'info',
      slowQueryMs: 500,
      metrics: { enabled: false, token: undefined },
    })
    const env = {
      DATABASE_STARTUP_ATTEMPTS: '3',
      DATABASE_STARTUP_RETRY_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_S: '2',
      LOG_LEVEL: 'debug',
      SLOW_QUERY_MS: '0',
      METRICS: 'true',
      METRICS_TOKEN: 'a-token-of-16-chars',
    }
    expect(loadConfig(env)).toMatchObject({
      startup: { attempts: 3, retryDelayMs: 0 },
      shutdownTimeoutSeconds: 2,
      logLevel: 'debug',
      slowQueryMs: 0,
      metrics: { enabled: true, token: 'a-token-of-16-chars' },
    })
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent')
    expect(() => loadConfig({ DATABASE_STARTUP_ATTEMPTS: '0' })).toThrow('DATABASE_STARTUP_ATTEMPTS must be at least 1')
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN must be at least 16 characters')
  })

  test('every refused value is one sentence naming its variable: "<VARIABLE> must ..."', () => {
    const refusals: string[] = []
    for (const variable of Object.keys(envSchema.shape)) {
      for (const value of ['', 'x', '-1', '99999999']) {
        try {
          loadConfig({ [variable]: value })
        } catch (error) {
          refusals.push((error as Error).message)
        }
      }
    }
    // Each variable is refused for some value; none in the validation library's own words.
    expect(new Set(refusals.map((m) => /^Invalid configuration: (\w+) /.exec(m)?.[1])).size).toBe(Object.keys(envSchema.shape).length)
    expect(refusals.filter((m) => !/^Invalid configuration: \w+ must [^;]+$/.test(m))).toEqual([])
  })

  test('an empty environment gives the embedded database in ./data and every default', () => {
    expect(loadConfig({})).toMatchObject({
      database: { kind: 'pglite', dataDir: './data/db' },
      uploadDir: './data/uploads',
      port: 3000,
      migrateOnStart: true,
      trustProxy: false,
      loginThrottle: { maxAttempts: 5, windowSeconds: 900, maxRows: 10_000 },
      gearboxUrl: 'http://localhost:3000',
    })
  })

  test('GEARBOX_DATA_DIR moves the embedded database and the uploads; an empty DATABASE_URL counts as unset', () => {
    expect(loadConfig({ GEARBOX_DATA_DIR: '/var/lib/gearbox', DATABASE_URL: '' })).toMatchObject({
      database: { kind: 'pglite', dataDir: '/var/lib/gearbox/db' },
      uploadDir: '/var/lib/gearbox/uploads',
      port: 3000,
      migrateOnStart: true,
      trustProxy: false,
      loginThrottle: { maxAttempts: 5, windowSeconds: 900, maxRows: 10_000 },
      gearboxUrl: 'http://localhost:3000',
    })
  })

  test('DATABASE_URL selects the server, with the pool defaults', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://gearbox@db:5432/gearbox' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://gearbox@db:5432/gearbox',
      maxConnections: 10,
      connectTimeoutSeconds: 10,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 3_000,
      preparedStatements: true,
      acquireTimeoutMs: 3_000,
    })
  })

  test('every variable is read', () => {
    expect(
      loadConfig({
        DATABASE_URL: ' postgresql://u:p@db/gearbox ',
        DATABASE_MAX_CONNECTIONS: '4',
        DATABASE_CONNECT_TIMEOUT_S: '3',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        DATABASE_LOCK_TIMEOUT_MS: '250',
        DATABASE_PREPARED_STATEMENTS: 'false',
        DATABASE_ACQUIRE_TIMEOUT_MS: '1500',
        GEARBOX_DATA_DIR: '/srv/data',
        GEARBOX_UPLOAD_DIR: '/srv/uploads',
        PORT: '8080',
        MIGRATE_ON_START: '0',
        GEARBOX_TRUST_PROXY: 'true',
        GEARBOX_LOGIN_MAX_ATTEMPTS: '10',
        GEARBOX_LOGIN_WINDOW_S: '60',
        GEARBOX_LOGIN_THROTTLE_MAX_ROWS: '500',
        GEARBOX_URL: 'https://Gear.Example.com:8443/',
      }),
    ).toMatchObject({
      database: {
        kind: 'postgres',
        url: 'postgresql://u:p@db/gearbox',
        maxConnections: 4,
        connectTimeoutSeconds: 3,
        statementTimeoutMs: 0,
        lockTimeoutMs: 250,
        preparedStatements: false,
        acquireTimeoutMs: 1_500,
      },
      uploadDir: '/srv/uploads',
      port: 8080,
      migrateOnStart: false,
      trustProxy: true,
      loginThrottle: { maxAttempts: 10, windowSeconds: 60, maxRows: 500 },
      gearboxUrl: 'https://gear.example.com:8443',
    })
  })

  test('GEARBOX_URL defaults to localhost on PORT', () => {
    expect(loadConfig({ PORT: '8080' }).gearboxUrl).toBe('http://localhost:8080')
  })

  test('flags accept true/false/1/0', () => {
    expect(loadConfig({ MIGRATE_ON_START: 'false' }).migrateOnStart).toBe(false)
    expect(loadConfig({ MIGRATE_ON_START: '1' }).migrateOnStart).toBe(true)
    expect(loadConfig({ MIGRATE_ON_START: 'true' }).migrateOnStart).toBe(true)
  })

  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '0'],
    ['DATABASE_URL', 'mysql://db/gearbox'],
    ['DATABASE_MAX_CONNECTIONS', '0'],
    ['DATABASE_MAX_CONNECTIONS', '2.5'],
    ['DATABASE_CONNECT_TIMEOUT_S', '-1'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '-5'],
    ['DATABASE_LOCK_TIMEOUT_MS', '1.5'],
    ['DATABASE_PREPARED_STATEMENTS', 'no'],
    ['MIGRATE_ON_START', 'yes'],
    ['GEARBOX_DATA_DIR', ''],
    ['GEARBOX_TRUST_PROXY', 'yes'],
    ['GEARBOX_LOGIN_MAX_ATTEMPTS', '0'],
    ['GEARBOX_LOGIN_WINDOW_S', '1.5'],
    ['GEARBOX_LOGIN_THROTTLE_MAX_ROWS', '-1'],
    ['GEARBOX_URL', 'gear.example.com'],
    ['GEARBOX_URL', 'ftp://gear.example.com'],
    ['GEARBOX_URL', 'https://gear.example.com/gearbox'],
    ['GEARBOX_URL', 'https://gear.example.com/?x=1'],
    ['GEARBOX_URL', 'https://gear.example.com/#top'],
    ['GEARBOX_URL', 'https://user:pw@gear.example.com'],
  ])('%s=%p is rejected with one line naming the variable', (name, value) => {
    const message = configError({ [name]: value })
    expect(message).toStartWith(`Invalid configuration: ${name} `)
    expect(message).not.toContain('\n')
  })

  test('numbers are decimal digits up to what a timer or a PostgreSQL integer holds: a blank, hex, exponent or larger value is refused, never read as 0 or another number', () => {
    for (const value of ['', ' ', '0x1F90', '8e3', '1e3', '+5', '5 ']) {
      expect([value, configError({ PORT: value })]).toEqual([value, 'Invalid configuration: PORT must be a whole number'])
      expect(configError({ DATABASE_STATEMENT_TIMEOUT_MS: value })).toBe('Invalid configuration: DATABASE_STATEMENT_TIMEOUT_MS must be a whole number')
    }
    expect(configError({ SHUTDOWN_TIMEOUT_S: '3000000' })).toBe('Invalid configuration: SHUTDOWN_TIMEOUT_S must be at most 2147483')
    expect(configError({ DATABASE_CONNECT_TIMEOUT_S: '3000000' })).toBe('Invalid configuration: DATABASE_CONNECT_TIMEOUT_S must be at most 2147483')
    expect(configError({ GEARBOX_LOGIN_WINDOW_S: '2147483648' })).toBe('Invalid configuration: GEARBOX_LOGIN_WINDOW_S must be at most 2147483')
    expect(configError({ DATABASE_STATEMENT_TIMEOUT_MS: '3000000000' })).toBe('Invalid configuration: DATABASE_STATEMENT_TIMEOUT_MS must be at most 2147483647')
    expect(configError({ DATABASE_ACQUIRE_TIMEOUT_MS: '2147483648' })).toBe('Invalid configuration: DATABASE_ACQUIRE_TIMEOUT_MS must be at most 2147483647')
    expect(loadConfig({ SHUTDOWN_TIMEOUT_S: '2147483', DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toMatchObject({ shutdownTimeoutSeconds: 2147483 })
  })

  test('a DATABASE_URL that is not a valid URL is refused in one line, not later with a stack', () => {
    expect(configError({ DATABASE_URL: 'postgres://postgres@127.0.0.1:99999/x' })).toStartWith('Invalid configuration: DATABASE_URL must be a valid URL')
    expect(configError({ DATABASE_URL: 'postgres://u:p#w@db/gearbox' })).toStartWith('Invalid configuration: DATABASE_URL must be a valid URL')
  })

  test('a flag explains what it accepts', () => {
    expect(configError({ DATABASE_PREPARED_STATEMENTS: 'no' })).toBe('Invalid configuration: DATABASE_PREPARED_STATEMENTS must be true or false')
  })

  test('several bad variables are all named in the one line', () => {
    const message = configError({ PORT: 'x', DATABASE_MAX_CONNECTIONS: 'y' })
    expect(message).toContain('PORT ')
    expect(message).toContain('DATABASE_MAX_CONNECTIONS ')
    expect(message).not.toContain('\n')
  })
})

describe('createPostgresClient', () => {
  // postgres.js connects lazily, so building a client touches no server.
  function clientOptions(env: Record<string, string>) {
    const client = createPostgresClient(loadConfig(env).database as PostgresConfig)
    const options = client.options
    void client.end()
    return options
  }

  test('the pool settings reach postgres.js', () => {
    const options = clientOptions({
      DATABASE_URL: 'postgres://gearbox@db.example:6543/gear',
      DATABASE_MAX_CONNECTIONS: '7',
      DATABASE_CONNECT_TIMEOUT_S: '4',
      DATABASE_STATEMENT_TIMEOUT_MS: '1500',
    })
    expect(options.host).toEqual(['db.example'])
    expect(options.port).toEqual([6543])
    expect(options.database).toBe('gear')
    expect(options.max).toBe(7)
    expect(options.connect_timeout).toBe(4)
    // The lock timeout's default: a lock wait is a 503 within a few seconds.
    expect(options.connection).toMatchObject({ statement_timeout: 1500, lock_timeout: 3000, application_name: 'gearbox' })
    expect(options.prepare).toBe(true)
  })

  test('the standard PG* variables fill in what DATABASE_URL leaves out', () => {
    const names = ['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE'] as const
    const saved = names.map((n) => process.env[n])
    Object.assign(process.env, { PGHOST: 'pg.internal', PGPORT: '6000', PGUSER: 'gearbox', PGDATABASE: 'gear' })
    try {
      const options = clientOptions({ DATABASE_URL: 'postgres://' })
      expect([options.host, options.port, options.user, options.database]).toEqual([['pg.internal'], [6000], 'gearbox', 'gear'])
    } finally {
      names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])))
    }
  })

  test('DATABASE_PREPARED_STATEMENTS=false turns prepared statements off (PgBouncer in transaction mode)', () => {
    expect(clientOptions({ DATABASE_URL: 'postgres://db/gear', DATABASE_PREPARED_STATEMENTS: 'false' }).prepare).toBe(false)
  })
})
