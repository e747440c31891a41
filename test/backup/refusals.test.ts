import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { BackupFileError, sha256 } from '../../src/backup/archive'
import { BrokenRowsError, SchemaVersionError } from '../../src/backup/restore'
import { ForeignReferenceError } from '../../src/db/bulk'
import { createMigrator } from '../../src/db/migrator'
import { ImageError } from '../../src/import/images'
import { TargetNotEmptyError } from '../../src/import/load'
import { VerificationError } from '../../src/import/verify'
import {
  type BackupDatabase,
  backupTo,
  directoryContents,
  openBackupDatabase,
  restoreFrom,
  rewriteArchive,
  tableContents,
  writeImages,
} from '../support/backup'
import { backend, HOOK_TIMEOUT_MS } from '../support/database'
import { rejection } from '../support/failures'
import { realisticRows, writeLegacyFile } from '../support/legacy-sqlite'
import { migrationNames } from '../support/schema'

let dir: string
let source: BackupDatabase
let target: BackupDatabase
let backup: string
const uploads = () => path.join(dir, 'target-uploads')

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-backup-refusals-'))
  source = await openBackupDatabase(backend)
  target = await openBackupDatabase(backend)
  const legacy = path.join(dir, 'legacy.db')
  writeLegacyFile(legacy, realisticRows())
  await source.importLegacy(legacy)
  writeImages(path.join(dir, 'source-uploads'), 2)
  backup = path.join(dir, 'backup.tar.gz')
  await backupTo(source, path.join(dir, 'source-uploads'), backup)
}, HOOK_TIMEOUT_MS)
afterAll(async () => {
  await source?.close()
  await target?.close()
  rmSync(dir, { recursive: true, force: true })
}, HOOK_TIMEOUT_MS)

/** Runs `restore` and checks that neither the target database nor its upload directory changed. */
async function expectNothingWritten(restore: () => Promise<unknown>): Promise<unknown> {
  writeImages(uploads(), 1)
  const [rows, images] = [await tableContents(target.db), directoryContents(uploads())]
  const error = await rejection(restore())
  expect(await tableContents(target.db)).toEqual(rows)
  expect(directoryContents(uploads())).toEqual(images)
  // No staging directory is left in the upload directory (directoryContents lists folders too) or next to it.
  expect(readdirSync(dir).filter((n) => n.startsWith('target-uploads.restore-'))).toEqual([])
  return error
}

describe(`restore refusals on ${backend}: a clear message and nothing written`, () => {
  test('a target that holds data, without --replace (every row counted, the seeded category too); with --replace it is replaced', async () => {
    const { id } = await target.db.insertInto('categories').values({ name: 'Mine' }).returning('id').executeTakeFirstOrThrow()
    await target.db.insertInto('items').values({ name: 'mine', category_id: id }).execute()
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), backup))
    expect(error).toBeInstanceOf(TargetNotEmptyError)
    // GET /api/categories lists two: Uncategorized and Mine.
    expect((error as Error).message).toBe(
      'the target already holds data beyond a fresh install (categories: 2, items: 1; a fresh install holds only the category Uncategorized); run with --replace to replace it',
    )

    await restoreFrom(target, uploads(), backup, true)
    expect(await tableContents(target.db)).toEqual(await tableContents(source.db))
  }, 60_000)

  test("a refused restore removes nothing beside or in the upload directory; one that writes removes only a killed restore's staging", async () => {
    const { id } = await target.db.insertInto('categories').values({ name: 'Kept' }).returning('id').executeTakeFirstOrThrow()
    // A pid no process runs as any more.
    const dead = Bun.spawn(['true'])
    await dead.exited
    const admins = [
      path.join(dir, 'target-uploads.restore-before'),
      path.join(dir, 'target-uploads.restore-2026-12-03'),
      path.join(uploads(), '.gearbox-restore-mine'),
    ]
    const killed = [path.join(uploads(), `.gearbox-restore-${dead.pid}`), path.join(dir, `target-uploads.restore-${dead.pid}`)]
    for (const folder of [...admins, ...killed]) {
      mkdirSync(folder, { recursive: true })
      writeFileSync(path.join(folder, 'important'), 'keep me')
    }
    try {
      const error = await rejection(restoreFrom(target, uploads(), backup))
      expect(error).toBeInstanceOf(TargetNotEmptyError)
      // Before, every one of them was gone, though the restore wrote nothing.
      expect([...admins, ...killed].filter((f) => !existsSync(path.join(f, 'important')))).toEqual([])

      await restoreFrom(target, uploads(), backup, true)
      expect(admins.filter((f) => !existsSync(path.join(f, 'important')))).toEqual([])
      expect(killed.filter((f) => existsSync(f))).toEqual([])
    } finally {
      for (const folder of [...admins, ...killed]) rmSync(folder, { recursive: true, force: true })
      await target.db.deleteFrom('categories').where('id', '=', id).execute()
    }
  }, 60_000)

  test('a fresh install (nothing but the seeded category) counts as empty: restored into without --replace', async () => {
    const fresh = await openBackupDatabase(backend)
    try {
      expect(await tableContents(fresh.db)).toMatchObject({ categories: [expect.stringContaining('"Uncategorized"')], items: [] })
      await restoreFrom(fresh, path.join(dir, 'fresh-uploads'), backup)
      expect(await tableContents(fresh.db)).toEqual(await tableContents(source.db))
    } finally {
      await fresh.close()
    }
  }, 60_000)

  test('a backup from a newer schema (a migration this version does not know)', async () => {
    const newer = await openBackupDatabase(backend)
    const file = path.join(dir, 'newer.tar.gz')
    try {
      await sql`insert into kysely_migration (name, timestamp) values ('29991231000000_from_the_future', '2999-12-31T00:00:00.000Z')`.execute(newer.db)
      await backupTo(newer, path.join(dir, 'none'), file)
    } finally {
      await newer.close()
    }
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
    expect(error).toBeInstanceOf(SchemaVersionError)
    expect((error as Error).message).toBe(
      'the backup is from a newer GearBox: its schema has migration(s) 29991231000000_from_the_future, which this version does not know; restore it with that version or a newer one; nothing was written',
    )
  }, 60_000)

  test('a corrupted file: one byte changed anywhere is a BackupFileError, never a raw zlib error', async () => {
    // Where the byte sits decides which layer notices (gzip's CRC, the deflate stream, tar, a
    // SHA-256), and a gzip error can arrive while an entry is still being read.
    const original = readFileSync(backup)
    for (let i = 1; i <= 12; i++) {
      const file = path.join(dir, `corrupted-${i}.tar.gz`)
      const bytes = Buffer.from(original)
      bytes[Math.floor((bytes.length * i) / 13)]! ^= 0xff
      writeFileSync(file, bytes)
      const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
      expect(error).toBeInstanceOf(BackupFileError)
    }
  }, 120_000)

  test('a truncated file', async () => {
    const file = path.join(dir, 'truncated.tar.gz')
    writeFileSync(file, readFileSync(backup).subarray(0, Math.floor(readFileSync(backup).length * 0.6)))
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
    expect(error).toBeInstanceOf(BackupFileError)
    expect((error as Error).message).toMatch(/unexpected end|truncated|premature/i)
  }, 60_000)

  test('an image that does not match its SHA-256', async () => {
    const file = path.join(dir, 'bad-image.tar.gz')
    copyFileSync(backup, file)
    await rewriteArchive(file, (entries, manifest) => {
      const name = `images/${manifest.images[0]!.name}`
      entries.set(name, Buffer.concat([entries.get(name)!, Buffer.from('x')]))
    })
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
    expect(error).toBeInstanceOf(BackupFileError)
    expect((error as Error).message).toMatch(/^images\/[0-9a-f]+\.png does not match its SHA-256 in the manifest$/)
  }, 60_000)

  test('something other than the same image in the way of one: refused before anything is written; the same image stays', async () => {
    const name = readdirSync(path.join(dir, 'source-uploads'))[0]!
    const inTheWay = path.join(uploads(), name)
    // A file of other content would be overwritten, and a folder would make the rename fail after the commit.
    mkdirSync(uploads(), { recursive: true })
    writeFileSync(inTheWay, 'mine')
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), backup, true))
    expect(error).toBeInstanceOf(ImageError)
    expect((error as Error).message).toBe(`${inTheWay} already exists with other content; move it away first`)
    rmSync(inTheWay)
    mkdirSync(inTheWay)
    const folder = await expectNothingWritten(() => restoreFrom(target, uploads(), backup, true))
    expect((folder as Error).message).toBe(`${inTheWay} is in the way (not a file); move it away first`)
    rmSync(inTheWay, { recursive: true })

    copyFileSync(path.join(dir, 'source-uploads', name), inTheWay)
    await restoreFrom(target, uploads(), backup, true)
    expect(await tableContents(target.db)).toEqual(await tableContents(source.db))
    expect(directoryContents(uploads())).toMatchObject(directoryContents(path.join(dir, 'source-uploads')))
  }, 60_000)

  test("a table that is not GearBox's is neither backed up, nor counted, nor emptied", async () => {
    const fresh = await openBackupDatabase(backend)
    const file = path.join(dir, 'with-audit-log.tar.gz')
    try {
      await sql`create table audit_log (id int generated always as identity primary key, message text not null)`.execute(source.db)
      await sql`insert into audit_log (message) values ('in the source')`.execute(source.db)
      const { manifest } = await backupTo(source, path.join(dir, 'source-uploads'), file)
      expect(manifest.tables.map((t) => t.name)).not.toContain('audit_log')
      expect(manifest.sequences.map((s) => s.table)).not.toContain('audit_log')

      await sql`create table audit_log (id int primary key, message text not null)`.execute(fresh.db)
      await sql`insert into audit_log values (7, 'precious')`.execute(fresh.db)
      await restoreFrom(fresh, path.join(dir, 'audit-uploads'), file)
      expect((await sql`select * from audit_log`.execute(fresh.db)).rows).toEqual([{ id: 7, message: 'precious' }])
      await restoreFrom(fresh, path.join(dir, 'audit-uploads'), file, true)
      expect((await sql`select * from audit_log`.execute(fresh.db)).rows).toEqual([{ id: 7, message: 'precious' }])
    } finally {
      await sql`drop table audit_log`.execute(source.db)
      await fresh.close()
    }
  }, 60_000)

  test("another table's foreign key to one of GearBox's tables: refused by name, the other table untouched", async () => {
    await sql`create table trip_notes (id int primary key, item_id int not null constraint trip_notes_item_fkey references items (id), note text)`.execute(
      target.db,
    )
    try {
      const error = await expectNothingWritten(() => restoreFrom(target, uploads(), backup, true))
      expect(error).toBeInstanceOf(ForeignReferenceError)
      expect((error as Error).message).toBe(
        'the foreign key trip_notes_item_fkey of table trip_notes refers to items; loading empties items and re-creates its keys, which that key prevents (and emptying trip_notes too would lose its rows); drop the foreign key, load, then add it back',
      )
    } finally {
      await sql`drop table trip_notes`.execute(target.db)
    }
  }, 60_000)

  test('rows that break a foreign key: refused naming the table and the key; nothing was written', async () => {
    const file = path.join(dir, 'broken-key.tar.gz')
    copyFileSync(backup, file)
    await rewriteArchive(file, (entries, manifest) => {
      // The first item's category (the 4th column) made one that is not there, the file's SHA-256 fixed up.
      const items = manifest.tables.find((t) => t.name === 'items')!
      const c = items.columns.indexOf('category_id')
      const lines = entries.get('tables/items.copy')!.toString('utf8').split('\n')
      const fields = lines[0]!.split('\t')
      fields[c] = '999999'
      lines[0] = fields.join('\t')
      const data = Buffer.from(lines.join('\n'))
      entries.set('tables/items.copy', data)
      items.sha256 = sha256(data)
    })
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
    // Before: the server's raw text, without "nothing was written".
    expect(error).toBeInstanceOf(BrokenRowsError)
    expect((error as Error).message).toMatch(
      /^the backup's rows of items break items_category_id_fkey: Key \(category_id\)=\(999999\) is not present in table "categories"\.; nothing was written$/,
    )
  }, 60_000)

  test('a target a newer GearBox migrated (a migration this version does not know): refused by name; nothing was written', async () => {
    await sql`insert into kysely_migration (name, timestamp) values ('29991231000000_from_the_future', '2999-12-31T00:00:00.000Z')`.execute(target.db)
    try {
      const error = await expectNothingWritten(() => restoreFrom(target, uploads(), backup, true))
      // Before: could not bring … corrupted migrations: previously executed migration 29991231000000_from_the_future is missing
      expect(error).toBeInstanceOf(SchemaVersionError)
      expect((error as Error).message).toMatch(
        /^.+ was migrated by a newer GearBox: migration\(s\) 29991231000000_from_the_future are unknown to this version; restore with that version, or into another database; nothing was written$/,
      )
    } finally {
      await sql`delete from kysely_migration where name = '29991231000000_from_the_future'`.execute(target.db)
    }
  }, 60_000)

  test('rows that load but do not match the manifest checksum: verification fails, rolled back', async () => {
    const file = path.join(dir, 'tampered.tar.gz')
    copyFileSync(backup, file)
    await rewriteArchive(file, (entries, manifest) => {
      // A valid row with a changed value, and the file's SHA-256 fixed up: only the table checksum can tell.
      const data = entries.get('tables/items.copy')!.toString('utf8').replace('Tent', 'Tant')
      entries.set('tables/items.copy', Buffer.from(data))
      const items = manifest.tables.find((t) => t.name === 'items')!
      items.sha256 = sha256(Buffer.from(data))
    })
    const error = await expectNothingWritten(() => restoreFrom(target, uploads(), file, true))
    expect(error).toBeInstanceOf(VerificationError)
    expect((error as Error).message).toBe('verification failed: items differs from the source; nothing was written')
  }, 60_000)
})

describe(`a backup from an older schema on ${backend}`, () => {
  test('is loaded at its version and migrated forward in the same restore', async () => {
    const older = await openBackupDatabase(backend, false)
    const file = path.join(dir, 'older.tar.gz')
    const previous = migrationNames.at(-2)!
    try {
      const { error } = await createMigrator(older.db).migrateTo(previous)
      expect(error).toBeUndefined()
      await older.db.insertInto('items').values({ name: 'from the old version', category_id: 1, weight_grams: 12.5 }).execute()
      const made = await backupTo(older, path.join(dir, 'none'), file)
      expect(made.manifest.migrations).toEqual(migrationNames.slice(0, -1))
    } finally {
      await older.close()
    }
    const fresh = await openBackupDatabase(backend)
    try {
      const restored = await restoreFrom(fresh, path.join(dir, 'older-uploads'), file)
      expect(restored.migratedForward).toEqual([migrationNames.at(-1)!])
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(fresh.db)
      expect(applied.rows.map((r) => r.name)).toEqual(migrationNames)
      expect(await fresh.db.selectFrom('items').select(['name', 'weight_grams']).execute()).toEqual([{ name: 'from the old version', weight_grams: 12.5 }])
    } finally {
      await fresh.close()
    }
    expect(existsSync(file)).toBe(true)
  }, 120_000)
})
