// In this process, so coverage sees it; command-errors.test.ts checks the same lines from the commands.
import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import {
  connectionCause,
  connectionProblem,
  DatabaseUnavailableError,
  describeDatabase,
  failureLine,
  openCheckedDatabase,
  serverAddress,
} from '../../src/db/connection'
import { UnavailableError } from '../../src/errors'
import { createServerDatabase, serverUrl } from '../support/database'
import { freePort } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const server = (url: string) => ({
  kind: 'postgres' as const,
  url,
  maxConnections: 1,
  connectTimeoutSeconds: 2,
  statementTimeoutMs: 1000,
  preparedStatements: true,
})

describe('where a database is and why it cannot be used', () => {
  test('serverAddress: the URL first, then PGHOST and PGPORT, then the defaults', () => {
    expect(serverAddress('postgres://u:p@db.example:6543/x', {})).toEqual({ host: 'db.example', port: 6543 })
    expect(serverAddress('postgres:///x', { PGHOST: 'pg.internal', PGPORT: '5433' })).toEqual({ host: 'pg.internal', port: 5433 })
    expect(serverAddress('postgres:///x', {})).toEqual({ host: 'localhost', port: 5432 })
  })

  test('connectionCause: a known code in words, through wrapping errors; anything else its message and code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    expect(connectionCause(refused)).toBe('connection refused (ECONNREFUSED)')
    expect(connectionCause(new UnavailableError('database unavailable', { cause: refused }))).toBe('connection refused (ECONNREFUSED)')
    expect(connectionCause(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe('password authentication failed (28P01)')
    expect(connectionCause('plain text')).toBe('plain text')
  })

  test('connectionProblem: the variable, where, and why; never the password', () => {
    const refused = Object.assign(new Error('x'), { code: 'ECONNREFUSED' })
    expect(connectionProblem(server('postgres://gearbox:s3cret@db:5432/gearbox'), refused)).toBe(
      'DATABASE_URL: cannot connect to PostgreSQL at db:5432 (postgres://gearbox@db:5432/gearbox): connection refused (ECONNREFUSED)',
    )
    const denied = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' })
    expect(connectionProblem({ kind: 'pglite', dataDir: '/srv/data/db' }, denied)).toBe(
      'GEARBOX_DATA_DIR: cannot open the embedded database in /srv/data/db: permission denied (EACCES)',
    )
    expect(connectionProblem({ kind: 'pglite', dataDir: '/srv/data/db' }, new Error('the embedded database /srv/data/db is in use by process 7'))).toBe(
      'the embedded database /srv/data/db is in use by process 7',
    )
    expect(describeDatabase(server('postgres://gearbox:s3cret@db:5432/gearbox'))).toBe('PostgreSQL postgres://gearbox@db:5432/gearbox')
  })

  test('failureLine: a connection lost on the way names the variable, the server and the cause; other errors keep their message', () => {
    const closed = Object.assign(new Error('write CONNECTION_CLOSED db:5432'), { code: 'CONNECTION_CLOSED' })
    const config = server('postgres://gearbox:s3cret@db:5432/gearbox')
    const line = 'DATABASE_URL: lost the connection to PostgreSQL at db:5432: the connection closed (CONNECTION_CLOSED)'
    expect(failureLine(config, closed)).toBe(line)
    expect(failureLine(config, new UnavailableError('database unavailable', { cause: closed }))).toBe(line)
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
    expect(failureLine(config, terminated)).toBe(
      'DATABASE_URL: lost the connection to PostgreSQL at db:5432: the server is shutting down, or ended this session (57P01)',
    )
    expect(failureLine(config, new Error('refused: the target is not empty'))).toBe('refused: the target is not empty')
    // A connection never made is not "lost": a host that does not resolve, or nobody listening (the import said "lost the connection").
    for (const [code, cause] of [
      ['ENOTFOUND', 'host name not found'],
      ['ECONNREFUSED', 'connection refused'],
    ]) {
      expect(failureLine(config, Object.assign(new Error(`getaddrinfo ${code} db`), { code }))).toBe(
        `DATABASE_URL: cannot connect to PostgreSQL at db:5432 (postgres://gearbox@db:5432/gearbox): ${cause} (${code})`,
      )
    }
  })

  test('openCheckedDatabase: one line for a server nobody listens on; a file in the way of the embedded directory', async () => {
    const port = freePort()
    const error = await openCheckedDatabase(server(`postgres://gearbox:s3cret@127.0.0.1:${port}/gearbox`)).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatabaseUnavailableError)
    expect((error as Error).message).toBe(
      `DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:${port} (postgres://gearbox@127.0.0.1:${port}/gearbox): connection refused (ECONNREFUSED)`,
    )
    const dir = tempDir('checked')
    writeFileSync(path.join(dir, 'file'), '')
    const blocked = await openCheckedDatabase({ kind: 'pglite', dataDir: path.join(dir, 'file', 'db') }).catch((e: unknown) => e)
    expect(blocked).toBeInstanceOf(DatabaseUnavailableError)
    expect((blocked as Error).message).toStartWith(`GEARBOX_DATA_DIR: cannot use ${path.join(dir, 'file')}`)
  })

  test.if(serverUrl !== undefined)('openCheckedDatabase: a server that answers is handed back open', async () => {
    const created = await createServerDatabase()
    try {
      const db = await openCheckedDatabase(created.config)
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
      await db.destroy()
    } finally {
      await created.drop()
    }
  })
})
