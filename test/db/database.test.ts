import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { sql } from 'kysely'
import { createPGliteDatabase, openPGlite } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { openEmptyDatabase } from '../support/database'
import { waitForLine } from '../support/process'
import { tempDir } from '../support/temp-dir'

// In this process, so coverage sees it; data-dir-lock.test.ts covers the same across processes.
describe('openPGlite: the data directory lock', () => {
  test('a directory held by a running process is refused, naming it', async () => {
    const dataDir = tempDir('open')
    const lockFile = `${dataDir}/db.lock`
    // flock(1) plays the server: it holds the lock file's flock, and the file names it.
    const holder = Bun.spawn(['flock', '--exclusive', lockFile, 'sh', '-c', 'echo locked; exec sleep 60'], { stdout: 'pipe' })
    try {
      await waitForLine(holder.stdout, /locked/)
      writeFileSync(lockFile, String(holder.pid))
      expect(() => openPGlite(`${dataDir}/db`)).toThrow(
        `the embedded database ${dataDir}/db is in use by process ${holder.pid}; stop it first, or set DATABASE_URL`,
      )
      expect(readFileSync(lockFile, 'utf8')).toBe(String(holder.pid))
    } finally {
      holder.kill('SIGKILL')
      await holder.exited
    }
  })

  test('a stale lock is taken over, and the database opens and answers', async () => {
    const dataDir = tempDir('open')
    writeFileSync(`${dataDir}/db.lock`, '2147483646')
    const db = createPGliteDatabase(openPGlite(`${dataDir}/db`))
    try {
      expect(readFileSync(`${dataDir}/db.lock`, 'utf8')).toBe(String(process.pid))
      expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }])
    } finally {
      await db.destroy()
    }
  })
})

describe('migrateToLatest', () => {
  test('a migration that fails is named in the error, with the database error as its cause', async () => {
    const { db, close } = await openEmptyDatabase()
    try {
      // The first migration creates `categories`; a table of that name already in the way makes it fail.
      await sql`create table categories (id int)`.execute(db)
      const error = await migrateToLatest(db).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(Error)
      expect((error as Error).message).toMatch(/^migration 20261122050100_create_catalog failed: .*categories.* already exists/)
      expect((error as Error).cause).toBeDefined()
    } finally {
      await close()
    }
  })
})
