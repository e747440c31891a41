import type { DatabaseConfig } from '../config'
import { UnavailableError } from '../errors'
import { connectionCause, serverAddress } from './connection'
import { createPostgresClient } from './database'
import { translateDbError } from './errors'

/**
 * Start-up: waits until the server answers `select 1`, trying `attempts` times with
 * `retryDelayMs` between tries, and calls `onRetry` before each wait. Each try is a new
 * connection of its own (a pool that failed to connect may keep waiting on its old
 * attempt). Only a connection failure is retried; anything else (bad password, no such
 * database) throws at once. After the last try throws an Error whose one-line message
 * names the host, the port and the cause. PGlite needs no waiting.
 */
export async function waitForDatabase(
  config: DatabaseConfig,
  { attempts, retryDelayMs }: { attempts: number; retryDelayMs: number },
  onRetry: (line: string, detail: { host: string; port: number; cause: string; attempt: number; attempts: number }) => void,
): Promise<void> {
  if (config.kind === 'pglite') return
  const { host, port } = serverAddress(config.url)
  for (let attempt = 1; ; attempt++) {
    const probe = createPostgresClient({ ...config, maxConnections: 1 })
    try {
      await probe`select 1`
      return
    } catch (error) {
      const cause = connectionCause(error)
      if (!(translateDbError(error) instanceof UnavailableError)) throw new Error(`database at ${host}:${port} (DATABASE_URL): ${cause}`)
      if (attempt >= attempts) {
        throw new Error(`database unreachable at ${host}:${port} (DATABASE_URL) after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${cause}`)
      }
      onRetry(`database not reachable at ${host}:${port}: ${cause}; attempt ${attempt} of ${attempts}, next in ${retryDelayMs} ms`, {
        host,
        port,
        cause,
        attempt,
        attempts,
      })
    } finally {
      await probe.end({ timeout: 0 })
    }
    await Bun.sleep(retryDelayMs)
  }
}
