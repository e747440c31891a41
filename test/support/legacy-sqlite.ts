import { Database } from 'bun:sqlite'
import { afterAll, afterEach, beforeAll, beforeEach } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../src/db/types'
import { legacyDdl } from '../../src/import/legacy-schema'
import type { Output } from '../../src/import/report'
import { type ImportOptions, importLegacyFile } from '../../src/import/run'
import { pgliteTarget, serverTarget, type Target } from '../../src/import/target'
import { backend, HOOK_TIMEOUT_MS, openTestDatabase, type TestDatabase } from './database'
import { tableNames } from './schema'

export { legacyDdl }

export type LegacyRow = Record<string, unknown>
export type LegacyRows = Partial<Record<string, LegacyRow[]>>

/** The bytes of a test image: a PNG signature, then the name, so every image differs. */
export const imageBytes = (name: string) => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(name)])

/** The old app's uploads folder next to a legacy file, as writeLegacyFile fills it. */
export const uploadsBeside = (file: string) => path.join(path.dirname(file), 'uploads')

/**
 * Writes a legacy GearBox SQLite file with exactly these rows (foreign keys off, as the old
 * app ran), and every image a row names into uploadsBeside(file). Values are bound as given,
 * so a test can store text in a number column; `sql` runs afterwards for what binding
 * cannot express (e.g. bytes that are not UTF-8); `ddl` replaces the legacy DDL for files
 * the old app could not have written (say, without a NOT NULL), which the importer must
 * still catch.
 */
export function writeLegacyFile(file: string, rows: LegacyRows, sql = '', ddl = legacyDdl): void {
  rmSync(file, { force: true })
  const uploads = uploadsBeside(file)
  for (const row of [...(rows.items ?? []), ...(rows.thread_candidates ?? [])]) {
    const name = row.image_filename
    if (typeof name !== 'string' || path.basename(name) !== name) continue
    mkdirSync(uploads, { recursive: true })
    writeFileSync(path.join(uploads, name), imageBytes(name))
  }
  const db = new Database(file, { create: true })
  db.exec(ddl)
  db.transaction(() => {
    for (const [table, list] of Object.entries(rows)) {
      const byColumns = new Map<string, LegacyRow[]>()
      for (const row of list ?? []) {
        const key = Object.keys(row).join(',')
        byColumns.set(key, [...(byColumns.get(key) ?? []), row])
      }
      for (const [key, group] of byColumns) {
        const columns = key.split(',')
        const insert = db.prepare(`insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map(() => '?').join(', ')})`)
        for (const row of group) insert.run(...(columns.map((c) => row[c]) as never[]))
      }
    }
  })()
  if (sql) db.exec(sql)
  db.close()
}

const T = 1_700_000_000 // 2023-11-14T22:13:20Z

/** A small but realistic file: every table, tricky values in every column type, id gaps. */
export function realisticRows(): LegacyRows {
  return {
    __drizzle_migrations: [{ hash: 'abc123', created_at: 1690000000000 }],
    categories: [
      { id: 1, name: 'Uncategorized', icon: 'package', created_at: T },
      { id: 2, name: 'Shelter', icon: 'tent', created_at: T + 1 },
      { id: 7, name: '  Cook "pots" \\ & \'pans\'  ', icon: '', created_at: T + 2 },
    ],
    items: [
      {
        id: 1,
        name: 'Tent',
        weight_grams: 0.30000000000000004,
        price_cents: 45000,
        category_id: 2,
        notes: 'tab\there\nnew line\r\nCRLF',
        product_url: 'https://example.com/tent?a=1&b=2',
        image_filename: null,
        image_source_url: null,
        quantity: 1,
        created_at: T,
        updated_at: T + 60,
      },
      {
        id: 2,
        name: 'Stove 🔥',
        weight_grams: 12345.678901234567,
        price_cents: null,
        category_id: 7,
        notes: '',
        product_url: null,
        image_filename: 'stove.png',
        image_source_url: 'https://img.example/s.png',
        quantity: 2,
        created_at: T + 5,
        updated_at: T + 5,
      },
      {
        id: 5,
        name: 'Dust',
        weight_grams: 1e-300,
        price_cents: 0,
        category_id: 1,
        notes: 'back\\slash \\N \\t literal',
        product_url: null,
        image_filename: null,
        image_source_url: null,
        quantity: 3,
        created_at: 0,
        updated_at: 4_102_444_800,
      },
      {
        id: 9,
        name: ' Tiny ',
        weight_grams: 5e-324,
        price_cents: 9_000_000,
        category_id: 1,
        notes: null,
        product_url: null,
        image_filename: null,
        image_source_url: null,
        quantity: 1,
        created_at: T,
        updated_at: T,
      },
      {
        id: 10,
        name: 'Unknown weight',
        weight_grams: null,
        price_cents: 1,
        category_id: 2,
        notes: 'ünïcödé — “quotes” 日本語',
        product_url: null,
        image_filename: null,
        image_source_url: null,
        quantity: 1,
        created_at: T,
        updated_at: T,
      },
    ],
    threads: [
      { id: 3, name: 'Which stove?', status: 'resolved', resolved_candidate_id: 4, category_id: 7, created_at: T, updated_at: T + 100 },
      { id: 4, name: 'New tent', status: 'active', resolved_candidate_id: null, category_id: 2, created_at: T, updated_at: T },
    ],
    thread_candidates: [
      {
        id: 4,
        thread_id: 3,
        name: 'Jetboil',
        weight_grams: 371.5,
        price_cents: 12999,
        category_id: 7,
        notes: null,
        product_url: null,
        image_filename: null,
        image_source_url: null,
        status: 'arrived',
        pros: 'fast',
        cons: 'heavy\tish',
        sort_order: 0,
        created_at: T,
        updated_at: T,
      },
      {
        id: 6,
        thread_id: 4,
        name: 'Duplex',
        weight_grams: 540,
        price_cents: 61900,
        category_id: 2,
        notes: null,
        product_url: null,
        image_filename: null,
        image_source_url: null,
        status: 'researching',
        pros: null,
        cons: null,
        sort_order: 1.5,
        created_at: T,
        updated_at: T,
      },
      {
        id: 8,
        thread_id: 4,
        name: 'Notch',
        weight_grams: null,
        price_cents: null,
        category_id: 2,
        notes: null,
        product_url: null,
        image_filename: null,
        image_source_url: null,
        status: 'ordered',
        pros: '',
        cons: '',
        sort_order: -0.0001220703125,
        created_at: T,
        updated_at: T,
      },
    ],
    setups: [
      { id: 1, name: 'Summer', created_at: T, updated_at: T },
      { id: 3, name: 'Winter', created_at: T, updated_at: T },
    ],
    setup_items: [
      { id: 1, setup_id: 1, item_id: 1, classification: 'base' },
      { id: 2, setup_id: 1, item_id: 2, classification: 'worn' },
      { id: 4, setup_id: 3, item_id: 2, classification: 'consumable' },
    ],
    users: [{ id: 1, username: 'owner', password_hash: '$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA', created_at: T }],
    sessions: [
      { id: 'b'.repeat(64), user_id: 1, expires_at: T + 86400 },
      { id: 'a'.repeat(64), user_id: 1, expires_at: T + 3600 },
    ],
    api_keys: [
      { id: 2, user_id: 1, name: 'cli', key_hash: 'f'.repeat(64), key_prefix: 'gb_abcd', last_used_at: null, created_at: T },
      { id: 3, user_id: 1, name: 'phone', key_hash: 'e'.repeat(64), key_prefix: 'gb_efgh', last_used_at: T + 10, created_at: T },
    ],
    oauth_clients: [
      { id: 1, client_id: 'claude', client_name: 'Claude', redirect_uris: '["https://claude.ai/cb", "http://localhost:8080/cb?x=\\"y\\""]', created_at: T },
      { id: 2, client_id: 'empty', client_name: null, redirect_uris: '[]', created_at: T },
    ],
    oauth_codes: [
      {
        id: 1,
        code_hash: 'c'.repeat(64),
        client_id: 'claude',
        user_id: 1,
        redirect_uri: 'https://claude.ai/cb',
        code_challenge: 'xyz',
        code_challenge_method: 'S256',
        scope: null,
        expires_at: T + 600,
        used: 1,
        created_at: T,
      },
    ],
    oauth_tokens: [
      {
        id: 1,
        access_token_hash: '1'.repeat(64),
        refresh_token_hash: '2'.repeat(64),
        client_id: 'claude',
        user_id: 1,
        scope: 'mcp',
        expires_at: T + 3600,
        refresh_expires_at: T + 86400,
        revoked: 0,
        created_at: T,
      },
      {
        id: 2,
        access_token_hash: '3'.repeat(64),
        refresh_token_hash: null,
        client_id: 'claude',
        user_id: 1,
        scope: null,
        expires_at: T + 3600,
        refresh_expires_at: null,
        revoked: 1,
        created_at: T,
      },
    ],
    settings: [
      { key: 'weightUnit', value: 'g' },
      { key: 'currency', value: 'EUR' },
      { key: 'onboardingComplete', value: 'true' },
    ],
  }
}

/** The legacy DDL for a file in another of SQLite's text encodings (`PRAGMA encoding` must come first). */
export const ddlIn = (encoding: 'UTF-16le' | 'UTF-16be') => `pragma encoding = '${encoding}';\n${legacyDdl}`

/**
 * SQL for writeLegacyFile: deletions the old app made, so ids were issued that no row holds.
 * Items 9 and 10 go (sqlite_sequence says 10, the largest id left is 5); every thread and
 * candidate goes (threads: sqlite_sequence 4, no rows).
 */
export const deletedRows = 'delete from items where id > 5; delete from thread_candidates; delete from threads;'

/** A target database for import tests, on the backend the suite runs on (TEST_BACKEND). */
export interface ImportTarget {
  /** For reading what arrived; stays open across imports. */
  db: Kysely<DB>
  /** A Target for importLegacyFile, sharing the database but not closing it. */
  target(): Target
  /** DATABASE_URL for a child process (server only). */
  url?: string
  close(): Promise<void>
}

const importTarget = (t: TestDatabase): ImportTarget => ({
  db: t.db,
  url: 'server' in t.engine ? t.engine.server.url : undefined,
  target: () => ('server' in t.engine ? serverTarget(t.engine.server) : { ...pgliteTarget(t.engine.pglite), close: async () => {} }),
  close: t.close,
})

/** A migrated target of its own: a fresh PGlite from the migrated snapshot, or a new database on the server. */
export async function openImportTarget(engine: 'pglite' | 'postgres' = backend): Promise<ImportTarget> {
  return importTarget(await openTestDatabase(engine))
}

/**
 * Per test: a temporary directory, the path of a legacy file in it, and the suite's target,
 * reset to a fresh install (an import re-creates keys under their own names, so the reset holds).
 */
export function useImportFixture(): { dir: string; file: string; target: ImportTarget } {
  const fixture = {} as { dir: string; file: string; target: ImportTarget }
  let database: TestDatabase | undefined
  beforeAll(async () => {
    database = await openTestDatabase()
    fixture.target = importTarget(database)
  }, HOOK_TIMEOUT_MS)
  beforeEach(async () => {
    await database!.reset()
    fixture.dir = mkdtempSync(path.join(tmpdir(), 'gearbox-import-'))
    fixture.file = path.join(fixture.dir, 'gearbox.db')
  }, HOOK_TIMEOUT_MS)
  afterEach(() => rmSync(fixture.dir, { recursive: true, force: true }))
  afterAll(() => database?.close(), HOOK_TIMEOUT_MS)
  return fixture
}

/** Output captured from a run. */
function captureOutput(): Output & { text: string } {
  const out = { text: '', write: (s: string) => void (out.text += s) }
  return out
}

/**
 * Runs the importer in-process against `target` and returns the outcome and everything it
 * printed. When uploadsBeside(file) exists it is the uploads folder, and the images go to
 * `target-uploads` beside the file.
 */
export async function runImport(file: string, target: ImportTarget, options: Partial<ImportOptions> = {}) {
  const out = captureOutput()
  const uploads = uploadsBeside(file)
  const images = existsSync(uploads) ? { uploads, uploadDir: path.join(path.dirname(file), 'target-uploads') } : {}
  const outcome = await importLegacyFile({ file, openTarget: () => target.target(), out, progress: out, ...images, ...options })
  return { ...outcome, output: out.text }
}

/** Row counts of every application table, and the category rows: what "untouched" compares. */
export async function targetState(db: Kysely<DB>): Promise<Record<string, unknown>> {
  const state: Record<string, unknown> = {}
  for (const name of await tableNames(db)) {
    const { rows: count } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)}`.execute(db)
    state[name] = count[0]!.n
  }
  state.categoryRows = await db.selectFrom('categories').select(['id', 'name']).orderBy('id').execute()
  const { rows: constraints } = await sql<{
    n: number
  }>`select count(*)::int as n from pg_constraint where connamespace = current_schema()::regnamespace`.execute(db)
  const { rows: indexes } = await sql<{ n: number }>`select count(*)::int as n from pg_indexes where schemaname = current_schema()`.execute(db)
  state.constraints = constraints[0]!.n
  state.indexes = indexes[0]!.n
  return state
}

/** The entries of an import's rejects file (`--rejects`): one JSON object per line. */
export function readRejects(file: string): any[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
}
