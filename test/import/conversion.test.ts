import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { sql } from 'kysely'
import { APPLICATION_TABLES } from '../../src/db/schema'
import { ddlIn, deletedRows, realisticRows, runImport, targetState, useImportFixture, writeLegacyFile } from '../support/legacy-sqlite'

const T = 1_700_000_000

const fx = useImportFixture()

const at = (seconds: number) => new Date(seconds * 1000)

describe('a realistic legacy file', () => {
  test('arrives with every value equal and the source file untouched', async () => {
    writeLegacyFile(fx.file, realisticRows())
    const before = { bytes: readFileSync(fx.file), mtime: statSync(fx.file).mtimeMs }

    const result = await runImport(fx.file, fx.target)

    expect(result.status).toBe('imported')
    expect(result.exitCode).toBe(0)
    expect(result.verification.every((v) => v.ok)).toBe(true)
    expect(readFileSync(fx.file).equals(before.bytes)).toBe(true)
    expect(statSync(fx.file).mtimeMs).toBe(before.mtime)

    const { db } = fx.target
    const items = await db.selectFrom('items').selectAll().orderBy('id').execute()
    expect(items.map((i) => i.id)).toEqual([1, 2, 5, 9, 10])
    // Doubles bit for bit (pgloader turns these into float4).
    expect(items.map((i) => i.weight_grams)).toEqual([0.30000000000000004, 12345.678901234567, 1e-300, 5e-324, null])
    expect(Object.is(items[0]!.weight_grams, 0.30000000000000004)).toBe(true)
    expect(items.map((i) => i.price_cents)).toEqual([45000, null, 0, 9_000_000, 1])
    expect(items[0]!.notes).toBe('tab\there\nnew line\r\nCRLF')
    expect(items[1]!.notes).toBe('')
    expect(items[2]!.notes).toBe('back\\slash \\N \\t literal')
    expect(items[3]!.notes).toBeNull()
    expect(items[4]!.notes).toBe('ünïcödé — “quotes” 日本語')
    expect(items[1]!.name).toBe('Stove 🔥')
    expect(items[3]!.name).toBe(' Tiny ')
    expect(items[0]!.product_url).toBe('https://example.com/tent?a=1&b=2')
    expect(items.map((i) => i.quantity)).toEqual([1, 2, 3, 1, 1])
    expect(items[0]!.created_at).toEqual(at(T))
    expect(items[0]!.updated_at).toEqual(at(T + 60))
    expect(items[2]!.created_at).toEqual(new Date(0))
    expect(items[2]!.updated_at).toEqual(new Date('2100-01-01T00:00:00Z'))

    const categories = await db.selectFrom('categories').selectAll().orderBy('id').execute()
    expect(categories.map((c) => [c.id, c.name, c.icon])).toEqual([
      [1, 'Uncategorized', 'package'],
      [2, 'Shelter', 'tent'],
      [7, '  Cook "pots" \\ & \'pans\'  ', ''],
    ])

    const threads = await db.selectFrom('threads').selectAll().orderBy('id').execute()
    expect(threads.map((t) => [t.id, t.status, t.resolved_candidate_id, t.category_id])).toEqual([
      [3, 'resolved', 4, 7],
      [4, 'active', null, 2],
    ])
    const candidates = await db.selectFrom('thread_candidates').selectAll().orderBy('id').execute()
    expect(candidates.map((c) => [c.id, c.thread_id, c.status, c.sort_order, c.weight_grams, c.pros, c.cons])).toEqual([
      [4, 3, 'arrived', 0, 371.5, 'fast', 'heavy\tish'],
      [6, 4, 'researching', 1.5, 540, null, null],
      [8, 4, 'ordered', -0.0001220703125, null, '', ''],
    ])

    const setupItems = await db.selectFrom('setup_items').selectAll().orderBy('id').execute()
    expect(setupItems.map((s) => [s.id, s.setup_id, s.item_id, s.classification])).toEqual([
      [1, 1, 1, 'base'],
      [2, 1, 2, 'worn'],
      [4, 3, 2, 'consumable'],
    ])

    const sessions = await db.selectFrom('sessions').selectAll().orderBy('id').execute()
    expect(sessions.map((s) => [s.id, s.user_id, s.expires_at])).toEqual([
      ['a'.repeat(64), 1, at(T + 3600)],
      ['b'.repeat(64), 1, at(T + 86400)],
    ])
    const keys = await db.selectFrom('api_keys').selectAll().orderBy('id').execute()
    expect(keys.map((k) => [k.id, k.key_prefix, k.last_used_at])).toEqual([
      [2, 'gb_abcd', null],
      [3, 'gb_efgh', at(T + 10)],
    ])

    const clients = await db.selectFrom('oauth_clients').selectAll().orderBy('id').execute()
    expect(clients.map((c) => [c.client_id, c.client_name, c.redirect_uris])).toEqual([
      ['claude', 'Claude', ['https://claude.ai/cb', 'http://localhost:8080/cb?x="y"']],
      ['empty', null, []],
    ])
    const codes = await db.selectFrom('oauth_codes').selectAll().execute()
    expect(codes.map((c) => [c.used, c.scope, c.code_challenge_method])).toEqual([[true, null, 'S256']])
    const tokens = await db.selectFrom('oauth_tokens').selectAll().orderBy('id').execute()
    expect(tokens.map((t) => [t.revoked, t.refresh_token_hash, t.refresh_expires_at])).toEqual([
      [false, '2'.repeat(64), at(T + 86400)],
      [true, null, null],
    ])

    const settings = await db.selectFrom('settings').selectAll().orderBy('key').execute()
    expect(settings).toEqual([
      { key: 'currency', value: 'EUR' },
      { key: 'onboardingComplete', value: 'true' },
      { key: 'weightUnit', value: 'g' },
    ])

    // The legacy bookkeeping table is not copied.
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from information_schema.tables where table_name ilike '%drizzle%'`.execute(db)
    expect(rows[0]!.n).toBe(0)
  })

  test('leaves every id sequence past the largest id', async () => {
    writeLegacyFile(fx.file, realisticRows())
    await runImport(fx.file, fx.target)
    const { db } = fx.target
    const category = await db.insertInto('categories').values({ name: 'New' }).returning('id').executeTakeFirstOrThrow()
    expect(category.id).toBe(8)
    const item = await db.insertInto('items').values({ name: 'New', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    expect(item.id).toBe(11)
    const candidate = await db.insertInto('thread_candidates').values({ thread_id: 4, name: 'New', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    expect(candidate.id).toBe(9)
    const setup = await db.insertInto('setups').values({ name: 'New' }).returning('id').executeTakeFirstOrThrow()
    expect(setup.id).toBe(4)
    // An empty table starts at 1.
    const user = await db.insertInto('users').values({ username: 'second', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
    expect(user.id).toBe(2)
  })

  test('never hands out an id SQLite issued before, deleted rows and empty tables included', async () => {
    writeLegacyFile(fx.file, realisticRows(), deletedRows)
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('imported')
    const next = Object.fromEntries(result.verification.filter((v) => v.nextId).map((v) => [v.table, v.nextId!.expected]))
    expect(next).toMatchObject({ items: 11, threads: 5, thread_candidates: 9, categories: 8, users: 2 })
    expect(result.output).toContain('ok   items: 3 rows, md5 ')
    expect(result.output).toContain(', next id 11')
    const { db } = fx.target
    const item = await db.insertInto('items').values({ name: 'New', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    expect(item.id).toBe(11)
    const thread = await db.insertInto('threads').values({ name: 'New', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    expect(thread.id).toBe(5)
    const candidate = await db.insertInto('thread_candidates').values({ thread_id: 5, name: 'New', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    expect(candidate.id).toBe(9)
  })

  test('keeps the foreign keys and indexes of the schema', async () => {
    const before = await targetState(fx.target.db)
    writeLegacyFile(fx.file, realisticRows())
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
    const after = await targetState(fx.target.db)
    expect(after.constraints).toBe(before.constraints)
    expect(after.indexes).toBe(before.indexes)
    await expect(fx.target.db.insertInto('items').values({ name: 'x', category_id: 999 }).execute()).rejects.toThrow('items_category_id_fkey')
  })

  test('a file without category 1 keeps the seed category the application needs', async () => {
    const rows = realisticRows()
    rows.categories = rows.categories!.filter((c) => c.id !== 1)
    rows.items = rows.items!.filter((i) => i.category_id !== 1)
    writeLegacyFile(fx.file, rows)
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('imported')
    const categories = await fx.target.db.selectFrom('categories').select(['id', 'name']).orderBy('id').execute()
    expect(categories.map((c) => c.id)).toEqual([1, 2, 7])
  })

  test('a file without category 1 but with another "Uncategorized" is refused', async () => {
    const rows = realisticRows()
    rows.categories![0]!.id = 3
    rows.items = rows.items!.filter((i) => i.category_id !== 1)
    writeLegacyFile(fx.file, rows)
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('refused')
    expect(result.problems.map((p) => [p.kind, p.table, p.id, p.column])).toEqual([['duplicate', 'categories', 3, 'name']])
  })
})

describe('every SQLite text encoding', () => {
  for (const encoding of ['UTF-16le', 'UTF-16be'] as const) {
    test(`a ${encoding} file arrives with every text unchanged, a real U+FFFD included`, async () => {
      const rows = realisticRows()
      rows.items![0]!.notes = 'a real \uFFFD replacement character, \uFEFF a BOM and 🔥'
      writeLegacyFile(fx.file, rows, '', ddlIn(encoding))
      const result = await runImport(fx.file, fx.target)
      expect(result.problems).toEqual([])
      expect(result.status).toBe('imported')
      const items = await fx.target.db.selectFrom('items').select(['name', 'notes']).orderBy('id').execute()
      expect(items.map((i): unknown[] => [i.name, i.notes])).toEqual(rows.items!.map((i) => [i.name, i.notes]))
      const clients = await fx.target.db.selectFrom('oauth_clients').select('redirect_uris').orderBy('id').execute()
      expect(clients[0]!.redirect_uris).toEqual(['https://claude.ai/cb', 'http://localhost:8080/cb?x="y"'])
    })
  }
})

describe('a target that already holds data', () => {
  test('is refused without --replace and stays as it was', async () => {
    writeLegacyFile(fx.file, realisticRows())
    await fx.target.db.insertInto('categories').values({ name: 'Mine' }).execute()

    const result = await runImport(fx.file, fx.target)

    expect(result.status).toBe('target-not-empty')
    expect(result.exitCode).toBe(1)
    // Every row counted, the seeded category too (GET /api/categories lists both).
    expect(result.output).toContain(
      'refused: the target already holds data beyond a fresh install (categories: 2; a fresh install holds only the category Uncategorized); run with --replace to replace it; nothing was written',
    )
    const names = await fx.target.db.selectFrom('categories').select('name').orderBy('id').execute()
    expect(names.map((n) => n.name)).toEqual(['Uncategorized', 'Mine'])
  })

  test('a second run is refused; with --replace it replaces everything', async () => {
    writeLegacyFile(fx.file, realisticRows())
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
    expect((await runImport(fx.file, fx.target)).status).toBe('target-not-empty')

    const rows = realisticRows()
    rows.items = rows.items!.slice(0, 1)
    rows.setup_items = rows.setup_items!.slice(0, 1)
    writeLegacyFile(fx.file, rows)
    await fx.target.db.insertInto('users').values({ username: 'added later', password_hash: 'x' }).execute()

    const result = await runImport(fx.file, fx.target, { replace: true })

    expect(result.status).toBe('imported')
    expect(await fx.target.db.selectFrom('items').select('id').execute()).toEqual([{ id: 1 }])
    expect((await fx.target.db.selectFrom('users').select('username').execute()).map((u) => u.username)).toEqual(['owner'])
  })
})

describe("tables in the schema that are not GearBox's", () => {
  test('are neither counted nor emptied, not even with --replace, and their keys stay', async () => {
    writeLegacyFile(fx.file, realisticRows())
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
    // GearBox's own tables are exactly the list the loaders empty.
    const { rows: tables } = await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_name not like 'kysely\\_%' order by 1`.execute(fx.target.db)
    expect(tables.map((t) => t.name)).toEqual([...APPLICATION_TABLES].sort())
    await sql`create table audit_log (id int primary key, message text not null)`.execute(fx.target.db)
    await sql`insert into audit_log values (1, 'precious')`.execute(fx.target.db)

    const result = await runImport(fx.file, fx.target, { replace: true })

    expect(result.status).toBe('imported')
    expect((await sql<{ message: string }>`select message from audit_log`.execute(fx.target.db)).rows).toEqual([{ message: 'precious' }])
    const { rows: keys } = await sql<{
      name: string
    }>`select conname as name from pg_constraint where conrelid = 'audit_log'::regclass and contype = 'p'`.execute(fx.target.db)
    expect(keys).toEqual([{ name: 'audit_log_pkey' }])
  })
  test("one that refers to GearBox's tables by a foreign key: refused by name, nothing written", async () => {
    writeLegacyFile(fx.file, realisticRows())
    await sql`create table trip_notes (id int primary key, category_id int constraint trip_notes_category_fkey references categories (id))`.execute(
      fx.target.db,
    )
    await sql`insert into trip_notes values (1, 1)`.execute(fx.target.db)

    try {
      const result = await runImport(fx.file, fx.target, { replace: true })

      expect(result.status).toBe('refused')
      expect(result.exitCode).toBe(1)
      expect(result.output).toContain(
        'refused: the foreign key trip_notes_category_fkey of table trip_notes refers to categories; loading empties categories and re-creates its keys, which that key prevents (and emptying trip_notes too would lose its rows); drop the foreign key, load, then add it back; nothing was written',
      )
      expect((await sql`select * from trip_notes`.execute(fx.target.db)).rows).toEqual([{ id: 1, category_id: 1 }])
      expect(await fx.target.db.selectFrom('categories').select('name').execute()).toEqual([{ name: 'Uncategorized' }])
    } finally {
      await sql`drop table trip_notes`.execute(fx.target.db)
    }
  })
})

describe('--dry-run', () => {
  test('scans, prints what would be copied and writes nothing', async () => {
    writeLegacyFile(fx.file, realisticRows())
    let opened = false
    const result = await runImport(fx.file, fx.target, {
      dryRun: true,
      openTarget: () => {
        opened = true
        return fx.target.target()
      },
    })
    expect(result.status).toBe('dry-run')
    expect(result.exitCode).toBe(0)
    expect(opened).toBe(false)
    expect(result.output).toMatch(/items\s+5\s+0/)
    expect(await fx.target.db.selectFrom('items').select('id').execute()).toEqual([])
  })
})

/**
 * Makes `dir` read-only storage for the rest of the test, as a read-only mount is (root writes
 * through a folder's mode bits, so as root it becomes a read-only bind mount of itself).
 * Returns what undoes it.
 */
function readOnlyFolder(dir: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555)
    return () => chmodSync(dir, 0o755)
  }
  const mount = (...args: string[]) => expect(Bun.spawnSync(['mount', ...args]).exitCode).toBe(0)
  mount('--bind', dir, dir)
  mount('-o', 'remount,ro,bind', dir)
  // Lazily: a file SQLite failed to open may stay open until it is garbage-collected.
  return () => expect(Bun.spawnSync(['umount', '--lazy', dir]).exitCode).toBe(0)
}

describe('a file in WAL mode on read-only storage (SQLite cannot create its -shm file there)', () => {
  test('is read whole when its -wal file holds nothing', async () => {
    const dir = path.join(path.dirname(fx.file), 'read-only')
    mkdirSync(dir)
    const file = path.join(dir, 'gearbox.db')
    writeLegacyFile(file, realisticRows(), 'pragma journal_mode = wal')
    const undo = readOnlyFolder(dir)
    try {
      const result = await runImport(file, fx.target, { uploadDir: path.join(path.dirname(fx.file), 'target-uploads') })
      expect(result.status).toBe('imported')
      expect(readdirSync(dir).sort()).toEqual(['gearbox.db', 'uploads'])
    } finally {
      undo()
    }
    expect((await fx.target.db.selectFrom('items').select('id').orderBy('id').execute()).map((i) => i.id)).toEqual([1, 2, 5, 9, 10])
  })

  test('is refused with what to do when its -wal file holds changes', async () => {
    const dir = path.join(path.dirname(fx.file), 'read-only')
    mkdirSync(dir)
    const file = path.join(dir, 'gearbox.db')
    writeLegacyFile(fx.file, realisticRows(), 'pragma journal_mode = wal')
    // The old app still open, its last changes in the -wal file: a copy of both files.
    const open = new Database(fx.file)
    open.exec('pragma wal_autocheckpoint = 0; delete from setup_items')
    copyFileSync(fx.file, file)
    copyFileSync(`${fx.file}-wal`, `${file}-wal`)
    open.close()
    const undo = readOnlyFolder(dir)
    try {
      const result = await runImport(file, fx.target)
      expect(result.status).toBe('not-gearbox')
      expect(result.output).toContain(
        `${file}: it is in WAL mode and ${file}-wal holds changes that SQLite reads only by creating ${file}-shm, which this folder does not allow (read-only storage); copy the file and its -wal file to a folder that can be written and import that copy`,
      )
    } finally {
      undo()
    }
  })
})
