import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { writeLargeLegacyFile } from '../../scripts/large-legacy-file'
import { createPGliteDatabase, pgliteOptions } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import { STAGING_DIR } from '../../src/import/images'
import { serverUrl } from '../support/database'
import { imageBytes, openImportTarget, targetState } from '../support/legacy-sqlite'

const script = path.join(import.meta.dir, '../../scripts/migrate-sqlite-to-postgres.ts')
let dir: string
let file: string
let uploads: string
// The first 200 items name an image each.
const images = Array.from({ length: 200 }, (_, i) => `${String(i + 1).padStart(32, '0')}.png`)

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-import-kill-'))
  file = path.join(dir, 'large.db')
  writeLargeLegacyFile(file, 300_000)
  const db = new Database(file)
  db.exec(`update items set image_filename = printf('%032d.png', id) where id <= ${images.length}`)
  db.close()
  uploads = path.join(dir, 'uploads')
  mkdirSync(uploads)
  for (const name of images) writeFileSync(path.join(uploads, name), imageBytes(name))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/**
 * Starts the import in a child process and kills it with SIGKILL as soon as it reports the
 * first table copied: into PGlite while the big tables are streaming in; into a server (which
 * copies while it scans, and reports once the scan has passed) while it verifies.
 */
async function importAndKill(env: Record<string, string>): Promise<string> {
  const child = Bun.spawn([process.execPath, script, '--uploads', uploads, file], { env: { ...process.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  let seen = ''
  const decoder = new TextDecoder()
  for await (const chunk of child.stderr) {
    seen += decoder.decode(chunk)
    if (seen.includes('categories: 20 rows copied')) break
  }
  child.kill('SIGKILL')
  await child.exited
  expect(child.signalCode).toBe('SIGKILL')
  return seen
}

/** No image under its real name (not even part of one); the killed run's copies, if any yet, wait in the staging folder. */
function expectNoImagePlaced(uploadDir: string, staged = true) {
  expect(existsSync(uploadDir) ? readdirSync(uploadDir).filter((name) => name !== STAGING_DIR) : []).toEqual([])
  if (staged) expect(readdirSync(path.join(uploadDir, STAGING_DIR)).length).toBeGreaterThan(0)
}

describe('a killed import', () => {
  test('leaves the embedded database exactly as it was', async () => {
    const dataDir = path.join(dir, 'embedded')
    mkdirSync(`${dataDir}/db`, { recursive: true })
    const before = await (async () => {
      const db = createPGliteDatabase(new PGlite(`${dataDir}/db`, pgliteOptions))
      await migrateToLatest(db)
      const state = await targetState(db)
      await db.destroy()
      return state
    })()

    const seen = await importAndKill({ DATABASE_URL: '', GEARBOX_DATA_DIR: dataDir })
    expect(seen).not.toContain('items: ')
    expectNoImagePlaced(path.join(dataDir, 'uploads'))

    const db = createPGliteDatabase(new PGlite(`${dataDir}/db`, pgliteOptions))
    expect(await targetState(db)).toEqual(before)
    await db.destroy()
  }, 120_000)

  test.if(!!serverUrl)(
    'leaves the server database exactly as it was, and a new run then succeeds',
    async () => {
      const target = await openImportTarget('postgres')
      try {
        const before = await targetState(target.db)
        const uploadDir = path.join(dir, 'server-uploads')
        const seen = await importAndKill({ DATABASE_URL: target.url!, GEARBOX_UPLOAD_DIR: uploadDir })
        expect(seen).not.toContain('checksums, keys and indexes')
        expect(await targetState(target.db)).toEqual(before)
        expectNoImagePlaced(uploadDir, false)

        const again = Bun.spawnSync([process.execPath, script, '--uploads', uploads, file], {
          env: { ...process.env, DATABASE_URL: target.url!, GEARBOX_UPLOAD_DIR: uploadDir },
        })
        expect(again.exitCode).toBe(0)
        // The next run cleared what the killed one staged and put every image in place.
        expect(readdirSync(uploadDir).sort()).toEqual(images)
        for (const name of images) expect(readFileSync(path.join(uploadDir, name)).equals(imageBytes(name))).toBe(true)
        const count = await target.db
          .selectFrom('items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
        expect(count.n).toBe(111_000)
      } finally {
        await target.close()
      }
    },
    120_000,
  )
})
