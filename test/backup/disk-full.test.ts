import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, readArchive, sha256, writeArchive } from '../../src/backup/archive'
import { type BackupDatabase, backupTo, openBackupDatabase, tableContents, writeImages } from '../support/backup'
import { HOOK_TIMEOUT_MS, serverUrl } from '../support/database'
import { runOnSmallDisk } from '../support/process'

const scripts = path.join(import.meta.dir, '../../scripts')

// A full disk, made real: each command runs where the folder it writes to is a 256 KB tmpfs.
describe.if(!!serverUrl)('a full disk: one line naming the file or folder, nothing left behind, the backup never blamed', () => {
  let dir: string
  let source: BackupDatabase
  let images: string
  let backup: string

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gearbox-disk-full-'))
    source = await openBackupDatabase('postgres')
    images = path.join(dir, 'uploads')
    // Larger than the small disk together, each alone smaller.
    for (const name of writeImages(images, 4)) {
      await source.db.insertInto('items').values({ name, category_id: 1, image_filename: name }).execute()
    }
    await Bun.write(
      path.join(images, 'big.png'),
      new Uint8Array(200_000).map(() => Math.floor(Math.random() * 256)),
    )
    await source.db.insertInto('items').values({ name: 'big', category_id: 1, image_filename: 'big.png' }).execute()
    backup = path.join(dir, 'good.tar.gz')
    await backupTo(source, images, backup)
  }, HOOK_TIMEOUT_MS)
  afterAll(async () => {
    await source?.close()
    rmSync(dir, { recursive: true, force: true })
  }, HOOK_TIMEOUT_MS)

  const small = (name: string) => {
    const folder = path.join(dir, name)
    mkdirSync(folder)
    return folder
  }

  test('db:backup', async () => {
    const folder = small('backup-disk')
    const file = path.join(folder, 'b.tar.gz')
    // Random bytes: gzip cannot make the images smaller than the disk.
    await Bun.write(
      path.join(images, 'filler.png'),
      new Uint8Array(300_000).map(() => Math.floor(Math.random() * 256)),
    )
    await source.db.insertInto('items').values({ name: 'filler', category_id: 1, image_filename: 'filler.png' }).execute()
    try {
      const r = await runOnSmallDisk(folder, '256k', [process.execPath, path.join(scripts, 'db-backup.ts'), file], {
        DATABASE_URL: source.url!,
        GEARBOX_UPLOAD_DIR: images,
      })
      expect(r.code).toBe(1)
      // Its progress lines, then one error line: no stack, no inspected error object.
      const lines = r.stderr.trim().split('\n')
      expect(lines.filter((l) => !/rows copied|^images \(\d+\)/.test(l))).toEqual([
        `error: cannot write ${file}: ENOSPC: no space left on device, write; no backup was made`,
      ])
    } finally {
      await source.db.deleteFrom('items').where('name', '=', 'filler').execute()
      rmSync(path.join(images, 'filler.png'))
    }
  }, 60_000)

  test('db:restore with the upload directory on a full disk: its folder is named, not the good backup; nothing written', async () => {
    const target = await openBackupDatabase('postgres')
    try {
      const before = await tableContents(target.db)
      const uploads = path.join(small('restore-disk'), 'uploads')
      const r = await runOnSmallDisk(path.dirname(uploads), '128k', [process.execPath, path.join(scripts, 'db-restore.ts'), backup], {
        DATABASE_URL: target.url!,
        GEARBOX_UPLOAD_DIR: uploads,
      })
      expect(r.code).toBe(1)
      const last = r.stderr.trim().split('\n').at(-1)!
      expect(last).toMatch(
        new RegExp(
          `^error: GEARBOX_UPLOAD_DIR: cannot write the backup's image \\S+ into ${uploads}/\\.gearbox-restore-\\d+: ENOSPC: no space left on device, write; nothing was written$`,
        ),
      )
      expect(r.stderr).not.toContain('damaged')
      expect(await tableContents(target.db)).toEqual(before)
      // The tmpfs was the child's alone: afterwards the folder is as the test left it.
      expect(readdirSync(path.dirname(uploads))).toEqual([])
    } finally {
      await target.close()
    }
  }, 60_000)

  test('db:export-sqlite: the file is named, and neither it nor its journal is left', async () => {
    const folder = small('export-disk')
    const file = path.join(folder, 'out.db')
    // Enough rows that SQLite's transaction spills into its rollback journal before the disk is full.
    await sql`insert into items (name, category_id, notes) select 'filler ' || g, 1, repeat('n', 200) from generate_series(1, 20000) g`.execute(source.db)
    try {
      // The file itself is written inside the child's tmpfs; ls there shows what is left.
      const r = await runOnSmallDisk(
        folder,
        '256k',
        ['sh', '-c', `"$@"; echo "exit $?"; ls -A ${folder}`, 'sh', process.execPath, path.join(scripts, 'export-postgres-to-sqlite.ts'), file],
        {
          DATABASE_URL: source.url!,
        },
      )
      expect(r.stderr.trim().split('\n')).toEqual([`error: cannot write ${file}: database or disk is full`, 'no file was written'])
      // Exit status 1, and `ls -A` after it lists nothing: no partial file, no journal.
      expect(r.stdout.trim().split('\n').at(-1)).toBe('exit 1')
    } finally {
      await source.db.deleteFrom('items').where('name', 'like', 'filler %').execute()
    }
  }, 60_000)
})

describe('two backups to one file at once', () => {
  test('both finish, and the file is whole (each wrote its own partial file)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-two-backups-'))
    try {
      const file = path.join(dir, 'b.tar.gz')
      // Random bytes: large enough that the two writes overlap.
      const table = (seed: number) => new Map([['items', new Uint8Array(8_000_000).map((_, i) => (i * seed) % 251)]])
      const manifest = (data: Uint8Array) => ({
        format: BACKUP_FORMAT,
        formatVersion: BACKUP_FORMAT_VERSION,
        tables: [{ name: 'items', rows: 1, columns: [], sha256: sha256(data) }],
        images: [],
      })
      const [a, b] = [table(7), table(13)]
      const results = await Promise.allSettled([
        writeArchive(file, manifest(a.get('items')!) as never, a, dir),
        writeArchive(file, manifest(b.get('items')!) as never, b, dir),
      ])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled'])
      expect(readdirSync(dir)).toEqual(['b.tar.gz'])
      // Whole: one of the two, every byte as its SHA-256 in its manifest says.
      const { tables } = await readArchive(file, path.join(dir, 'staging'))
      expect([a, b].some((t) => Buffer.from(t.get('items')!).equals(Buffer.from(tables.get('items')!)))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
