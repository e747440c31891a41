import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import postgres from 'postgres'
import { writeLargeLegacyFile } from '../../scripts/large-legacy-file'
import { type BackupDatabase, backupTo, directoryContents, openBackupDatabase, restoreFrom, tableContents, writeImages } from '../support/backup'
import { HOOK_TIMEOUT_MS, serverUrl } from '../support/database'
import { nthCommit, startRelay } from '../support/relay'

const script = path.join(import.meta.dir, '../../scripts/db-restore.ts')

describe.if(!!serverUrl)('backups on a running server', () => {
  let dir: string
  let source: BackupDatabase

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gearbox-backup-server-'))
    source = await openBackupDatabase('postgres')
    // Big enough that a backup and a restore take a while, and that COPY data spans many socket reads.
    const legacy = path.join(dir, 'large.db')
    writeLargeLegacyFile(legacy, 150_000)
    await source.importLegacy(legacy)
    writeImages(path.join(dir, 'uploads'), 3)
  }, HOOK_TIMEOUT_MS)
  afterAll(async () => {
    await source?.close()
    rmSync(dir, { recursive: true, force: true })
  }, HOOK_TIMEOUT_MS)

  test('a backup taken while writes go on restores to one consistent moment', async () => {
    // Each write adds an item and puts it in setup 1 and counts it in a setting, in one
    // transaction: a restored state from one snapshot has all three agree.
    let writes = 0
    // Writes committed: `writes` counts the one in flight too, which a snapshot taken now may not see.
    let committed = 0
    let backingUp = true
    const writer = (async () => {
      while (backingUp) {
        writes++
        await source.db.transaction().execute(async (trx) => {
          const { id } = await trx
            .insertInto('items')
            .values({ name: `write ${writes}`, category_id: 1 })
            .returning('id')
            .executeTakeFirstOrThrow()
          await trx.insertInto('setup_items').values({ setup_id: 1, item_id: id }).execute()
          await trx
            .insertInto('settings')
            .values({ key: 'writes', value: String(writes) })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value: String(writes) }))
            .execute()
        })
        committed = writes
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 200))
    const startedAt = committed
    const file = path.join(dir, 'during-writes.tar.gz')
    try {
      await backupTo(source, path.join(dir, 'uploads'), file)
    } finally {
      backingUp = false
      await writer
    }
    expect(writes).toBeGreaterThan(startedAt + 2)

    const restored = await openBackupDatabase('pglite')
    try {
      await restoreFrom(restored, path.join(dir, 'restored-uploads'), file)
      const counted = Number((await restored.db.selectFrom('settings').select('value').where('key', '=', 'writes').executeTakeFirstOrThrow()).value)
      const { rows } = await sql<{ items: number; entries: number }>`
        select (select count(*)::int from items where name like 'write %') as items,
          (select count(*)::int from setup_items s join items i on i.id = s.item_id where i.name like 'write %') as entries`.execute(restored.db)
      expect(counted).toBeGreaterThanOrEqual(startedAt)
      expect(counted).toBeLessThan(writes)
      expect(rows[0]).toEqual({ items: counted, entries: counted })
    } finally {
      await restored.close()
    }
  }, 180_000)

  test('a restore killed midway leaves the database and the upload directory as they were; the next run succeeds', async () => {
    const file = path.join(dir, 'kill.tar.gz')
    await backupTo(source, path.join(dir, 'uploads'), file)
    const target = await openBackupDatabase('postgres')
    const uploads = path.join(dir, 'kill-uploads')
    try {
      await target.db.insertInto('items').values({ name: 'before the restore', category_id: 1 }).execute()
      writeImages(uploads, 1)
      const before = { rows: await tableContents(target.db), images: directoryContents(uploads) }

      const env = { ...process.env, DATABASE_URL: target.url!, GEARBOX_UPLOAD_DIR: uploads }
      const child = Bun.spawn([process.execPath, script, '--replace', file], { env, stdout: 'pipe', stderr: 'pipe' })
      let seen = ''
      for await (const chunk of child.stderr) {
        seen += new TextDecoder().decode(chunk)
        // The first tables are in, the big ones are loading: well inside the transaction.
        if (seen.includes('categories: 20 rows copied')) break
      }
      child.kill('SIGKILL')
      await child.exited
      expect(child.signalCode).toBe('SIGKILL')
      expect(await new Response(child.stdout).text()).not.toContain('restored and verified')

      expect(await tableContents(target.db)).toEqual(before.rows)
      // The upload directory as it was, but for the killed run's staging folder, which the next run removes.
      const staging = (name: string) => /^\.gearbox-restore-\d+$/.test(name)
      expect(Object.fromEntries(Object.entries(directoryContents(uploads)).filter(([name]) => !staging(name)))).toEqual(before.images)

      // The killed run's staging directory is cleared by the next run, which succeeds.
      const again = Bun.spawn([process.execPath, script, '--replace', file], { env, stdout: 'pipe', stderr: 'pipe' })
      const [code, out, err] = await Promise.all([again.exited, new Response(again.stdout).text(), new Response(again.stderr).text()])
      expect(err).not.toContain('error')
      expect(code).toBe(0)
      expect(out).toContain('restored and verified')
      expect(await tableContents(target.db)).toEqual(await tableContents(source.db))
      expect(readdirSync(uploads).filter(staging)).toEqual([])
    } finally {
      await target.close()
    }
  }, 180_000)

  test('a connection lost while the restore commits: the outcome is unknown, so the images stay, and the message says what to do', async () => {
    const small = await openBackupDatabase('postgres')
    const target = await openBackupDatabase('postgres')
    const [image] = writeImages(path.join(dir, 'small-uploads'), 1)
    await small.db.insertInto('items').values({ name: 'Tent', category_id: 1, image_filename: image }).execute()
    const file = path.join(dir, 'small.tar.gz')
    await backupTo(small, path.join(dir, 'small-uploads'), file)
    const uploads = path.join(dir, 'lost-commit-uploads')
    // The check that opens the database commits first; the server commits the restore, and its answer never comes back.
    const relay = startRelay(target.url!, { cutAfter: nthCommit(2) })
    try {
      const child = Bun.spawn([process.execPath, script, file], {
        env: { ...process.env, DATABASE_URL: relay.url, GEARBOX_UPLOAD_DIR: uploads },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [code, err] = await Promise.all([child.exited, new Response(child.stderr).text()])
      expect(code).toBe(1)
      const last = err.trim().split('\n').at(-1)!
      expect(last).toStartWith('error: the connection to PostgreSQL ')
      expect(last).toEndWith(
        `was lost while committing the restore: it may or may not be in the database, and its images stay in ${uploads}. Run it again with --replace: whichever happened, the target then holds the backup`,
      )
      // It was committed, and the image its row names is in place.
      expect(await target.db.selectFrom('items').select('image_filename').execute()).toEqual([{ image_filename: image! }])
      expect(Object.keys(directoryContents(uploads))).toContain(image!)
      // As the message says: run again with --replace.
      const again = Bun.spawn([process.execPath, script, '--replace', file], {
        env: { ...process.env, DATABASE_URL: target.url!, GEARBOX_UPLOAD_DIR: uploads },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [againCode, out] = await Promise.all([again.exited, new Response(again.stdout).text()])
      expect([againCode, out]).toEqual([0, expect.stringContaining('restored and verified')])
    } finally {
      relay.stop()
      await small.close()
      await target.close()
    }
  }, 60_000)
})

describe.if(!!serverUrl)('a restore on a server, and readers of an older snapshot', () => {
  let work: string
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'gearbox-restore-snapshot-'))
  })
  afterAll(() => rmSync(work, { recursive: true, force: true }))

  test('a reader whose snapshot is older than a restore (a backup under way) reads the rows from before it, never empty tables', async () => {
    const target = await openBackupDatabase('postgres')
    const reader = postgres(target.url!, { max: 1, onnotice: () => {} })
    try {
      const uploads = path.join(work, 'snapshot-uploads')
      mkdirSync(uploads)
      await target.db.insertInto('items').values({ name: 'backed up', category_id: 1 }).execute()
      const file = path.join(work, 'one-item.tar.gz')
      await backupTo(target, uploads, file)
      await target.db
        .insertInto('items')
        .values(['later', 'later still'].map((name) => ({ name, category_id: 1 })))
        .execute()
      // Its snapshot is taken by its first statement, as a backup's is; it reads the items only
      // once the restore has committed (TRUNCATE showed it an empty table, and the backup 0 rows).
      const seen = await reader.begin('isolation level repeatable read', async (tx) => {
        await tx`select 1`
        await restoreFrom(target, uploads, file, true)
        return (await tx<{ name: string }[]>`select name from items order by id`).map((r) => r.name)
      })
      expect(seen).toEqual(['backed up', 'later', 'later still'])
      expect((await target.db.selectFrom('items').select('name').execute()).map((r) => r.name)).toEqual(['backed up'])
    } finally {
      await reader.end()
      await target.close()
    }
  })
})
