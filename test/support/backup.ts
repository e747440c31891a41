import { createReadStream, createWriteStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGunzip, createGzip } from 'node:zlib'
import { PGlite } from '@electric-sql/pglite'
import { type Kysely, sql } from 'kysely'
import * as tar from 'tar-stream'
import type { Manifest } from '../../src/backup/archive'
import { createBackup } from '../../src/backup/backup'
import { type Engine, openEngine, pgliteEngine } from '../../src/backup/engine'
import { restoreBackup } from '../../src/backup/restore'
import { createPGliteDatabase, pgliteOptions } from '../../src/db/database'
import type { DB } from '../../src/db/types'
import { importLegacyFile } from '../../src/import/run'
import { pgliteTarget, serverTarget, type Target } from '../../src/import/target'
import { createServerDatabase, openTestDatabase } from './database'
import { tableNames } from './schema'

/** Output captured from a run. */
export function captureOutput(): { text: string; write(s: string): void } {
  const out = { text: '', write: (s: string) => void (out.text += s) }
  return out
}

/** A database for backup tests: Kysely for reading and writing, and an Engine for backup/restore. */
export interface BackupDatabase {
  db: Kysely<DB>
  engine(): Promise<Engine>
  /** DATABASE_URL for a child process (server only). */
  url?: string
  /** Imports a legacy SQLite file (the realistic data sets come this way). */
  importLegacy(file: string): Promise<void>
  close(): Promise<void>
}

/**
 * A migrated database on `engine` (openTestDatabase: an in-memory PGlite, whose one session
 * `db` and the engine share, or a new database on the test server). `migrated: false` gives
 * one with no schema at all.
 */
export async function openBackupDatabase(engine: 'pglite' | 'postgres', migrated = true): Promise<BackupDatabase> {
  if (!migrated) {
    if (engine === 'postgres') {
      const server = await createServerDatabase()
      return { db: server.db, url: server.url, engine: () => openEngine(server.config), importLegacy: unsupported, close: server.drop }
    }
    const pglite = new PGlite(pgliteOptions)
    const db = createPGliteDatabase(pglite)
    return { db, engine: async () => sharedPGlite(pglite), importLegacy: unsupported, close: () => db.destroy() }
  }
  const t = await openTestDatabase(engine)
  const e = t.engine
  const target = (): Target => ('server' in e ? serverTarget(e.server) : { ...pgliteTarget(e.pglite), close: async () => {} })
  return {
    db: t.db,
    url: 'server' in e ? e.server.url : undefined,
    engine: async () => ('server' in e ? openEngine(e.server) : sharedPGlite(e.pglite)),
    async importLegacy(file) {
      const out = captureOutput()
      // The round trips write images of their own into the upload folder they back up.
      const outcome = await importLegacyFile({ file, openTarget: target, out, progress: out, noImages: true })
      if (outcome.exitCode !== 0) throw new Error(`import failed: ${out.text}`)
    },
    close: t.close,
  }
}

// The engine shares the PGlite with the test's Kysely, so closing it must not close the database.
const sharedPGlite = (pglite: PGlite): Engine => ({ ...pgliteEngine(pglite, 'the test PGlite'), close: async () => {} })
const unsupported = async () => {
  throw new Error('import into a migrated database only')
}

/** Backs up `from` (with the images in `uploadDir`) to `file`, in-process. */
export async function backupTo(from: BackupDatabase, uploadDir: string, file: string) {
  const engine = await from.engine()
  try {
    return await createBackup({ engine, uploadDir, file, progress: captureOutput() })
  } finally {
    await engine.close()
  }
}

/** Restores `file` into `into` (images into `uploadDir`), in-process; returns the result and what it printed. */
export async function restoreFrom(into: BackupDatabase, uploadDir: string, file: string, replace = false) {
  const engine = await into.engine()
  const progress = captureOutput()
  try {
    return { ...(await restoreBackup({ engine, uploadDir, file, replace, progress })), output: progress.text }
  } finally {
    await engine.close()
  }
}

/**
 * Every row of every table as jsonb text (UTC, full microseconds, doubles exact), sorted:
 * what "every value equal" compares, independent of each engine's collation.
 */
export async function tableContents(db: Kysely<DB>): Promise<Record<string, string[]>> {
  return db.transaction().execute(async (trx) => {
    await sql`set local timezone = 'UTC'`.execute(trx)
    const contents: Record<string, string[]> = {}
    for (const table of await tableNames(trx)) {
      const { rows } = await sql<{ row: string }>`select to_jsonb(t)::text as row from ${sql.table(table)} t`.execute(trx)
      contents[table] = rows.map((r) => r.row).sort()
    }
    return contents
  })
}

/** File name -> bytes of every file in `dir` (none when it does not exist). */
export function directoryContents(dir: string): Record<string, string> {
  mkdirSync(dir, { recursive: true })
  const content = (file: string) => (statSync(file).isDirectory() ? '(a folder)' : readFileSync(file).toString('base64'))
  return Object.fromEntries(readdirSync(dir).map((name) => [name, content(path.join(dir, name))]))
}

/** Writes `count` small images (PNG signature + random bytes) into `dir`; returns their names. */
export function writeImages(dir: string, count: number): string[] {
  mkdirSync(dir, { recursive: true })
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    const name = `${crypto.randomUUID().replaceAll('-', '')}.png`
    const bytes = new Uint8Array(1000 + i * 777)
    crypto.getRandomValues(bytes)
    bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    writeFileSync(path.join(dir, name), bytes)
    names.push(name)
  }
  return names
}

/**
 * Rewrites a backup file: `edit` gets every entry (name -> bytes) and the parsed manifest,
 * and may change both; the file is written back with the edited manifest first.
 */
export async function rewriteArchive(file: string, edit: (entries: Map<string, Buffer>, manifest: Manifest) => void): Promise<void> {
  const entries = new Map<string, Buffer>()
  const extract = tar.extract()
  const reading = pipeline(createReadStream(file), createGunzip(), extract)
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const chunk of entry) chunks.push(chunk as Buffer)
    entries.set(entry.header.name, Buffer.concat(chunks))
  }
  await reading
  const manifest = JSON.parse(entries.get('manifest.json')!.toString('utf8')) as Manifest
  edit(entries, manifest)
  entries.set('manifest.json', Buffer.from(JSON.stringify(manifest)))
  const pack = tar.pack()
  const writing = pipeline(pack, createGzip(), createWriteStream(file))
  for (const name of ['manifest.json', ...[...entries.keys()].filter((n) => n !== 'manifest.json')]) pack.entry({ name }, entries.get(name)!)
  pack.finalize()
  await writing
}
