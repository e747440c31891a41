import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { type BackupDatabase, backupTo, directoryContents, openBackupDatabase, restoreFrom, tableContents, writeImages } from '../support/backup'
import { backend, serverUrl } from '../support/database'
import { realisticRows, writeLegacyFile } from '../support/legacy-sqlite'
import { migrationNames } from '../support/schema'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-backup-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * The realistic legacy file imported, then values the import cannot produce: a timestamp
 * with microseconds, a double that is not a short decimal, control characters, an id sequence ahead of the
 * largest id (a deleted newest item), an OAuth client with a JSON array; and three images.
 */
async function seed(db: BackupDatabase, uploadDir: string): Promise<void> {
  const file = path.join(dir, `legacy-${Math.random().toString(36).slice(2)}.db`)
  writeLegacyFile(file, realisticRows())
  await db.importLegacy(file)
  await sql`update items set updated_at = '2024-02-29 23:59:59.123456+00', weight_grams = 0.1 + 0.2 where id = 1`.execute(db.db)
  // Every control character COPY escapes, and one it does not (BEL).
  await sql`update items set notes = 'bs' || chr(8) || ' ff' || chr(12) || ' vt' || chr(11) || ' bel' || chr(7) || ' \N \\' where id = 2`.execute(db.db)
  const { id } = await db.db.insertInto('items').values({ name: 'deleted later', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
  await db.db.deleteFrom('items').where('id', '=', id).execute()
  writeImages(uploadDir, 3)
}

/** Backs `source` up, restores it into `target`, and checks that everything arrived. */
async function roundTrip(source: BackupDatabase, target: BackupDatabase, name: string) {
  const [fromUploads, toUploads, file] = [path.join(dir, `${name}-from`), path.join(dir, `${name}-to`), path.join(dir, `${name}.tar.gz`)]
  await seed(source, fromUploads)
  const backup = await backupTo(source, fromUploads, file)
  expect(backup.manifest.migrations).toEqual(migrationNames)
  expect(backup.manifest.images.map((i) => i.name).sort()).toEqual(Object.keys(directoryContents(fromUploads)).sort())

  const restored = await restoreFrom(target, toUploads, file)
  expect(restored.verification.every((v) => v.ok)).toBe(true)
  expect(await tableContents(target.db)).toEqual(await tableContents(source.db))
  expect(directoryContents(toUploads)).toEqual(directoryContents(fromUploads))

  // Sequences continue past the high-water marks: past the largest id, and past the deleted newest item.
  const highest = backup.manifest.sequences.find((s) => s.table === 'items')!.lastValue!
  const { id } = await target.db.insertInto('items').values({ name: 'after restore', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
  expect(id).toBe(highest + 1)
  for (const table of ['categories', 'thread_candidates', 'setup_items', 'oauth_clients'] as const) {
    const { rows } = await sql<{ max: number | null }>`select max(id) as max from ${sql.table(table)}`.execute(target.db)
    const next = await sql<{ next: number }>`select nextval(pg_get_serial_sequence(${table}, 'id'))::int as next`.execute(target.db)
    expect(next.rows[0]!.next).toBeGreaterThan(rows[0]!.max ?? 0)
  }
  return { backup, restored }
}

describe(`backup and restore on ${backend}`, () => {
  test('every row, value and image arrives; sequences continue', async () => {
    const [source, target] = [await openBackupDatabase(backend), await openBackupDatabase(backend)]
    try {
      await roundTrip(source, target, 'same-engine')
    } finally {
      await source.close()
      await target.close()
    }
  }, 120_000)

  test('a backup of a restored database, nothing written in between, keeps every high-water mark', async () => {
    const [source, middle, target] = [await openBackupDatabase(backend), await openBackupDatabase(backend), await openBackupDatabase(backend)]
    try {
      await seed(source, path.join(dir, 'chain-from'))
      const first = await backupTo(source, path.join(dir, 'chain-from'), path.join(dir, 'chain-1.tar.gz'))
      // The restore leaves each sequence set past its mark but not yet called.
      await restoreFrom(middle, path.join(dir, 'chain-middle'), path.join(dir, 'chain-1.tar.gz'))
      const second = await backupTo(middle, path.join(dir, 'chain-middle'), path.join(dir, 'chain-2.tar.gz'))
      expect(second.manifest.sequences).toEqual(first.manifest.sequences)
      await restoreFrom(target, path.join(dir, 'chain-to'), path.join(dir, 'chain-2.tar.gz'))
      // The deleted newest item's id is not handed out again.
      const { id } = await target.db.insertInto('items').values({ name: 'after two restores', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
      expect(id).toBe(first.manifest.sequences.find((s) => s.table === 'items')!.lastValue! + 1)
    } finally {
      await Promise.all([source.close(), middle.close(), target.close()])
    }
  }, 120_000)

  test('into a database with no schema at all: migrated to the backup version inside the restore', async () => {
    const [source, target] = [await openBackupDatabase(backend), await openBackupDatabase(backend, false)]
    try {
      await roundTrip(source, target, 'blank-target')
      const applied = await target.db
        .selectFrom('kysely_migration' as never)
        .select('name' as never)
        .orderBy('name' as never)
        .execute()
      expect(applied.map((r) => (r as { name: string }).name)).toEqual(migrationNames)
    } finally {
      await source.close()
      await target.close()
    }
  }, 120_000)
})

describe.if(!!serverUrl)('moving between engines: embedded PGlite (PostgreSQL 18) -> server (PostgreSQL 15) -> embedded', () => {
  test('every value survives both moves', async () => {
    const embedded = await openBackupDatabase('pglite')
    const server = await openBackupDatabase('postgres')
    const back = await openBackupDatabase('pglite')
    try {
      const there = await roundTrip(embedded, server, 'to-server')
      expect(there.backup.manifest.source.server).toMatch(/^PostgreSQL 18/)

      const file = path.join(dir, 'from-server.tar.gz')
      const again = await backupTo(server, path.join(dir, 'to-server-to'), file)
      expect(again.manifest.source.server).toMatch(/^PostgreSQL 1[5-7]/)
      // The same checksums on both engines: the backup format does not depend on the engine.
      const sums = (m: typeof again.manifest) => m.tables.map((t) => [t.name, t.rows, t.md5, t.sha256])
      await sql`delete from items where name = 'after restore'`.execute(server.db)
      const settled = await backupTo(server, path.join(dir, 'to-server-to'), file)
      expect(sums(settled.manifest)).toEqual(sums(there.backup.manifest))

      await restoreFrom(back, path.join(dir, 'back-to'), file)
      expect(await tableContents(back.db)).toEqual(await tableContents(embedded.db))
      expect(directoryContents(path.join(dir, 'back-to'))).toEqual(directoryContents(path.join(dir, 'to-server-from')))
    } finally {
      await Promise.all([embedded.close(), server.close(), back.close()])
    }
  }, 180_000)
})
