import type { DatabaseConnection, Dialect, Driver } from 'kysely'
import { UnavailableError } from '../errors'

/**
 * Wraps a dialect so that waiting for a pooled connection ends after `timeoutMs`
 * milliseconds with an UnavailableError (503 + Retry-After). While the server is down,
 * postgres.js queues each query until one of its connections has reconnected; without a
 * bound a request would wait out every reconnect attempt and its client would give up first.
 * A connection that arrives after its request gave up goes straight back to the pool.
 */
export function withAcquireTimeout(dialect: Dialect, timeoutMs: number): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () => boundedDriver(dialect.createDriver(), timeoutMs),
  }
}

function boundedDriver(driver: Driver, timeoutMs: number): Driver {
  return new Proxy(driver, {
    get(target, prop) {
      if (prop === 'acquireConnection') return () => acquireWithin(target, timeoutMs)
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}

function acquireWithin(driver: Driver, timeoutMs: number): Promise<DatabaseConnection> {
  const pending = driver.acquireConnection()
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new UnavailableError('database unavailable: no connection became free in time'))
      pending.then(
        (connection) => driver.releaseConnection(connection),
        () => {},
      )
    }, timeoutMs)
  })
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer))
}
