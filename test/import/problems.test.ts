import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { tableSpec } from '../../src/import/legacy-schema'
import { emptyTarget } from '../../src/import/load'
import type { Problem } from '../../src/import/problems'
import { StreamingLoad } from '../../src/import/transfer'
import { MAX_INDEXED_TEXT_BYTES } from '../../src/schemas/common'
import {
  ddlIn,
  legacyDdl,
  openImportTarget,
  readRejects,
  realisticRows,
  runImport,
  targetState,
  useImportFixture,
  writeLegacyFile,
} from '../support/legacy-sqlite'

const T = 1_700_000_000

const fx = useImportFixture()

const item = (id: number, extra: Record<string, unknown>) => ({
  id,
  name: `Item ${id}`,
  weight_grams: 10,
  price_cents: 100,
  category_id: 2,
  quantity: 1,
  created_at: T,
  updated_at: T,
  ...extra,
})

// A file the old app could have written only with its unique indexes and one NOT NULL gone.
const looseDdl = legacyDdl.replace(/CREATE UNIQUE INDEX[^;]*;/g, '').replace('`name` text NOT NULL,\n  `weight_grams`', '`name` text,\n  `weight_grams`')

function fileWithEveryProblem(): void {
  const rows = realisticRows()
  rows.categories!.push({ id: 8, name: 'Shelter', icon: 'x', created_at: T }, { id: 9, name: 'nul\0inside', icon: 'x', created_at: T })
  rows.items!.push(
    item(11, { category_id: 99 }),
    item(12, { weight_grams: '250g' }),
    item(13, { price_cents: 'cheap', quantity: 1.5 }),
    item(14, { created_at: 1_700_000_000_000 }),
    item(15, { updated_at: -5 }),
    item(16, { weight_grams: -1, quantity: 0, price_cents: -5 }),
    item(17, { weight_grams: Infinity, price_cents: 2_147_483_648 }),
    item(18, { name: null }),
    item(20, { weight_grams: 1e308, price_cents: 9_000_001, quantity: 1001 }),
    item(19, { image_filename: new Uint8Array([1, 2, 3]) }),
    item(3_000_000_000, {}),
  )
  rows.threads![1]!.resolved_candidate_id = 999
  rows.threads!.push({ id: 5, name: 'Archived', status: 'archived', resolved_candidate_id: null, category_id: 2, created_at: T, updated_at: T })
  rows.thread_candidates![1]!.sort_order = Infinity
  rows.setup_items!.push({ id: 5, setup_id: 1, item_id: 404, classification: 'base' }, { id: 6, setup_id: 1, item_id: 1, classification: 'spare' })
  rows.users!.push({ id: 2, username: 'owner', password_hash: 'x', created_at: T })
  rows.sessions!.push({ id: 'c'.repeat(64), user_id: 9, expires_at: T })
  rows.api_keys!.push({ id: 4, user_id: 1, name: 'dup', key_hash: 'f'.repeat(64), key_prefix: 'gb_x', last_used_at: null, created_at: T })
  rows.oauth_clients!.push(
    { id: 3, client_id: 'broken', client_name: null, redirect_uris: 'not json', created_at: T },
    { id: 4, client_id: 'object', client_name: null, redirect_uris: '{"a":1}', created_at: T },
    { id: 5, client_id: 'numbers', client_name: null, redirect_uris: '["ok", 5]', created_at: T },
  )
  rows.oauth_codes!.push({ ...rows.oauth_codes![0]!, id: 2, client_id: 'nobody', used: 2, code_challenge_method: 'plain' })
  rows.oauth_tokens!.push({ ...rows.oauth_tokens![0]!, id: 3, access_token_hash: '9'.repeat(64) })
  writeLegacyFile(fx.file, rows, `update items set notes = cast(x'ff41' as text) where id = 1;`, looseDdl)
}

const expected: [Problem['kind'], string, number | string, string][] = [
  // Item 3,000,000,000 moved SQLite's AUTOINCREMENT counter there too.
  ['out_of_range', 'sqlite_sequence', 'items', 'seq'],
  ['duplicate', 'categories', 8, 'name'],
  ['nul_character', 'categories', 9, 'name'],
  ['dangling_reference', 'items', 11, 'category_id'],
  ['wrong_type', 'items', 12, 'weight_grams'],
  ['wrong_type', 'items', 13, 'price_cents'],
  ['wrong_type', 'items', 13, 'quantity'],
  ['timestamp_after_2100', 'items', 14, 'created_at'],
  ['invalid_timestamp', 'items', 15, 'updated_at'],
  ['check_violation', 'items', 16, 'weight_grams'],
  ['check_violation', 'items', 16, 'quantity'],
  ['check_violation', 'items', 16, 'price_cents'],
  ['check_violation', 'items', 17, 'weight_grams'],
  ['out_of_range', 'items', 17, 'price_cents'],
  ['not_null', 'items', 18, 'name'],
  ['wrong_type', 'items', 19, 'image_filename'],
  ['check_violation', 'items', 20, 'weight_grams'],
  ['check_violation', 'items', 20, 'price_cents'],
  ['check_violation', 'items', 20, 'quantity'],
  ['out_of_range', 'items', 3_000_000_000, 'id'],
  ['invalid_text', 'items', 1, 'notes'],
  ['dangling_reference', 'threads', 4, 'resolved_candidate_id'],
  ['not_in_set', 'threads', 5, 'status'],
  ['check_violation', 'thread_candidates', 6, 'sort_order'],
  ['dangling_reference', 'setup_items', 5, 'item_id'],
  ['not_in_set', 'setup_items', 6, 'classification'],
  ['duplicate', 'setup_items', 6, 'setup_id, item_id'],
  ['duplicate', 'users', 2, 'username'],
  ['dangling_reference', 'sessions', 'c'.repeat(64), 'user_id'],
  ['duplicate', 'api_keys', 4, 'key_hash'],
  ['invalid_json', 'oauth_clients', 3, 'redirect_uris'],
  ['invalid_json', 'oauth_clients', 4, 'redirect_uris'],
  ['invalid_json', 'oauth_clients', 5, 'redirect_uris'],
  ['dangling_reference', 'oauth_codes', 2, 'client_id'],
  ['not_in_set', 'oauth_codes', 2, 'used'],
  ['not_in_set', 'oauth_codes', 2, 'code_challenge_method'],
  ['duplicate', 'oauth_codes', 2, 'code_hash'],
  ['duplicate', 'oauth_tokens', 3, 'refresh_token_hash'],
]

describe('a file with problems', () => {
  test('is refused with every problem listed and the target untouched', async () => {
    fileWithEveryProblem()
    const before = await targetState(fx.target.db)
    const reportPath = path.join(fx.dir, 'report.json')

    const result = await runImport(fx.file, fx.target, { reportPath })

    expect(result.status).toBe('refused')
    expect(result.exitCode).toBe(1)
    const found = result.problems.map((p) => [p.kind, p.table, p.id, p.column])
    for (const e of expected) expect(found).toContainEqual(e)
    expect(result.problems).toHaveLength(expected.length)
    expect(await targetState(fx.target.db)).toEqual(before)

    // Grouped by kind, each with table, id, column and value.
    expect(result.output).toContain('Values of the wrong type [wrong_type]: 4')
    expect(result.output).toContain('items 12 weight_grams = "250g": expected a number, found text')
    expect(result.output).toContain('items 14 created_at = 1700000000000: after 2100-01-01; probably milliseconds')
    expect(result.output).toContain('items 11 category_id = 99: categories.id = 99 does not exist')
    expect(result.output).toContain('nothing was written')

    const report = JSON.parse(readFileSync(reportPath, 'utf8'))
    expect(report.status).toBe('refused')
    expect(report.problems).toHaveLength(expected.length)
    expect(report.problems).toContainEqual({
      kind: 'duplicate',
      table: 'categories',
      id: 8,
      column: 'name',
      value: 'Shelter',
      message: 'same name as id 2',
    })
    expect(report.problems).toContainEqual(expect.objectContaining({ table: 'items', id: 19, value: "x'010203'" }))
    // Bytes that are not UTF-8 show as hex, not as replacement characters.
    expect(report.problems).toContainEqual({
      kind: 'invalid_text',
      table: 'items',
      id: 1,
      column: 'notes',
      value: "x'ff41'",
      message: 'not valid UTF-8; it would not arrive unchanged',
    })
  })
})

describe('a problem in the last table', () => {
  // Into a server every table before it has been streamed into the open transaction by then.
  test('is refused as any other, nothing written and no progress shown', async () => {
    const rows = realisticRows()
    rows.settings!.push({ key: 'bad\0key', value: 'x' })
    writeLegacyFile(fx.file, rows)
    const before = await targetState(fx.target.db)

    const result = await runImport(fx.file, fx.target)

    expect(result.status).toBe('refused')
    expect(result.problems.map((p) => [p.kind, p.table, p.column])).toEqual([['nul_character', 'settings', 'key']])
    expect(result.output).not.toContain('rows copied')
    expect(await targetState(fx.target.db)).toEqual(before)
    // Nothing left behind: the next run of a good file imports.
    writeLegacyFile(fx.file, realisticRows())
    expect((await runImport(fx.file, fx.target)).status).toBe('imported')
  })
})

describe('rows that break a key the server builds while the scan goes on', () => {
  // Into a server each table's keys are built as soon as it (and what they refer to) is copied,
  // before the scan's checks across tables have run: the server may fail first, the scan still decides.
  test("are refused with the scan's problems, nothing written", async () => {
    const server = await openImportTarget('postgres')
    try {
      const rows = realisticRows()
      rows.categories!.push({ id: 8, name: 'Shelter', icon: 'x', created_at: T })
      rows.items!.push(item(11, { category_id: 99 }))
      writeLegacyFile(fx.file, rows, '', looseDdl)
      const before = await targetState(server.db)

      const result = await runImport(fx.file, server)

      expect(result.status).toBe('refused')
      expect(result.problems.map((p) => [p.kind, p.table, p.id, p.column])).toEqual([
        ['duplicate', 'categories', 8, 'name'],
        ['dangling_reference', 'items', 11, 'category_id'],
      ])
      expect(result.output).not.toContain('rows copied')
      expect(await targetState(server.db)).toEqual(before)
      writeLegacyFile(fx.file, realisticRows())
      expect((await runImport(fx.file, server)).status).toBe('imported')
    } finally {
      await server.close()
    }
  })

  test('the failure of a key built early stops the copy, not the scan, and is what copied() rejects with', async () => {
    const server = await openImportTarget('postgres')
    try {
      const before = await targetState(server.db)
      const noProgress = { start() {}, advance() {}, finish() {}, step() {} }
      const categories = [
        [1, 'Uncategorized', 'package', T],
        [2, 'Shelter', 'tent', T],
        [3, 'Shelter', 'x', T],
      ]
      const items = [[1, 'Tent', 10, 100, 2, null, null, null, null, 1, T, T]]
      const rollback = new Error('rollback')
      const outcome = await server
        .target()
        .transaction(async (session) => {
          const load = new StreamingLoad(session, noProgress, await emptyTarget(session, false))
          await load.rows(tableSpec('categories'), categories, 0, 3)
          const failure = await load.copied().catch((error) => error)
          // The scan reads on: later rows are taken and dropped.
          await load.rows(tableSpec('items'), items, 0, 1)
          await load.abort()
          throw Object.assign(rollback, { failure })
        })
        .catch((error) => error)
      expect(outcome).toBe(rollback)
      expect(String(outcome.failure)).toContain('categories_name_key')
      expect(await targetState(server.db)).toEqual(before)
    } finally {
      await server.close()
    }
  })
})

describe('the report of a good file', () => {
  test('has one "rows copied" line per table, also for tables copied after the scan ended', async () => {
    writeLegacyFile(fx.file, realisticRows())
    const result = await runImport(fx.file, fx.target)
    expect(result.status).toBe('imported')
    const copied = [...result.output.matchAll(/^(\w+): \d+ rows copied in/gm)].map((m) => m[1])
    expect(copied.toSorted()).toEqual(result.tables.map((t) => t.table).toSorted())
    // And the summary has each table's copy time (a table finished after the scan once showed none).
    expect(result.tables.filter((t) => t.rows > 0 && !(t.ms > 0)).map((t) => t.table)).toEqual([])
  })
})

describe('on a terminal', () => {
  const terminal = () => {
    const screen = { text: '', isTTY: true, write: (s: string) => void (screen.text += s) }
    return screen
  }
  const ERASE = '\r\x1b[2K'

  test('a bar shows each table while it is copied and is erased when it is done', async () => {
    writeLegacyFile(fx.file, realisticRows())
    const screen = terminal()
    const result = await runImport(fx.file, fx.target, { progress: screen })
    expect(result.status).toBe('imported')
    expect(screen.text).toMatch(new RegExp(`${ERASE.replace('[', '\\[')}items +\\[#+\\] \\d+/\\d+`))
    expect(screen.text).toMatch(/items: \d+ rows copied in/)
    // The last bar drawn was erased: only lines follow it.
    expect(screen.text.split(ERASE).at(-1)).not.toMatch(/\[[#.]+\] \d+\/\d+/)
    expect(screen.text).toEndWith('\n')
  })

  test('a refused file leaves no bar behind and reports no rows copied', async () => {
    const rows = realisticRows()
    rows.settings!.push({ key: 'bad\0key', value: 'x' })
    writeLegacyFile(fx.file, rows)
    const screen = terminal()
    const result = await runImport(fx.file, fx.target, { progress: screen })
    expect(result.status).toBe('refused')
    expect(screen.text).not.toContain('rows copied')
    // Whatever was drawn was erased: nothing follows the last erase.
    if (screen.text) expect(screen.text).toEndWith(ERASE)
  })
})

describe('--skip-invalid', () => {
  test('leaves out the offending rows and every row that belonged to them, each written to the reject file', async () => {
    const rows = realisticRows()
    rows.categories![2]!.name = 'Cook\0' // category 7
    rows.oauth_clients![0]!.redirect_uris = '["a",' // client 'claude'
    writeLegacyFile(fx.file, rows)
    const rejectsPath = path.join(fx.dir, 'rejects.jsonl')

    const result = await runImport(fx.file, fx.target, { skipInvalid: true, rejectsPath })

    expect(result.status).toBe('imported')
    expect(result.exitCode).toBe(0)
    expect(result.verification.every((v) => v.ok)).toBe(true)
    const rejected = Object.fromEntries(result.tables.map((t) => [t.table, t.rejected]))
    // Category 7 -> item 2, thread 3 (-> its candidate 4), candidate 4; item 2 -> setup_items 2 and 4.
    // Client claude -> its code and both tokens.
    expect(rejected).toEqual({
      categories: 1,
      items: 1,
      threads: 1,
      thread_candidates: 1,
      setups: 0,
      setup_items: 2,
      users: 0,
      sessions: 0,
      api_keys: 0,
      oauth_clients: 1,
      oauth_codes: 1,
      oauth_tokens: 2,
      settings: 0,
    })
    const lines = readRejects(rejectsPath)
    expect(lines).toHaveLength(10)
    expect(lines[0]).toEqual({
      table: 'categories',
      id: 7,
      row: { id: 7, name: 'Cook\0', icon: '', created_at: T + 2 },
      reasons: [{ kind: 'nul_character', table: 'categories', id: 7, column: 'name', value: 'Cook\0', message: 'contains a NUL character' }],
    })
    expect(lines.find((l) => l.table === 'setup_items' && l.id === 4)).toEqual({
      table: 'setup_items',
      id: 4,
      row: { id: 4, setup_id: 3, item_id: 2, classification: 'consumable' },
      reasons: [{ kind: 'parent_left_out', table: 'setup_items', id: 4, column: 'item_id', value: 2, message: 'items 2 was left out' }],
    })
    expect(result.output).toContain('10 row(s) left out')
    expect(result.output).toMatch(/setup_items\s+1\s+2/)

    const items = await fx.target.db.selectFrom('items').select('id').orderBy('id').execute()
    expect(items.map((i) => i.id)).toEqual([1, 5, 9, 10])
    const threads = await fx.target.db.selectFrom('threads').select('id').execute()
    expect(threads.map((t) => t.id)).toEqual([4])
    expect(await fx.target.db.selectFrom('oauth_tokens').select('id').execute()).toEqual([])
  })
})

describe('UTF-16 files', () => {
  // SQLite orders text keys by their UTF-16 bytes; the target's checksum by their UTF-8 bytes.
  for (const encoding of ['UTF-16le', 'UTF-16be'] as const) {
    test(`${encoding}: text keys beyond ASCII import and verify`, async () => {
      const rows = realisticRows()
      rows.settings = ['Ā', 'ÿ', '𐀀', 'ｱ', 'a'].map((key, i) => ({ key, value: String(i) }))
      rows.sessions = ['Āsess', 'ÿsess', '𐀀sess', 'ｱsess'].map((id) => ({ id, user_id: 1, expires_at: T }))
      writeLegacyFile(fx.file, rows, '', ddlIn(encoding))
      const result = await runImport(fx.file, fx.target)
      expect(result.output).not.toContain('DIFF')
      expect(result.status).toBe('imported')
      const settings = await fx.target.db.selectFrom('settings').select(['key', 'value']).execute()
      expect(Object.fromEntries(settings.map((r) => [r.key, r.value]))).toEqual(Object.fromEntries(rows.settings.map((r) => [r.key, r.value])))
    })
  }

  // In UTF-16le, 00 d8 41 00 is a lone high surrogate (U+D800) before "A"; SQLite would read it as U+10041.
  for (const [encoding, bytes] of [
    ['UTF-16le', '00d84100'],
    ['UTF-16be', 'd8000041'],
  ] as const) {
    test(`${encoding}: text that is not valid ${encoding} is refused, its bytes shown in hex`, async () => {
      writeLegacyFile(fx.file, realisticRows(), `update items set notes = cast(x'${bytes}' as text) where id = 1;`, ddlIn(encoding))
      const result = await runImport(fx.file, fx.target)
      expect(result.status).toBe('refused')
      expect(result.problems).toEqual([
        { kind: 'invalid_text', table: 'items', id: 1, column: 'notes', value: `x'${bytes}'`, message: `not valid ${encoding}; it would not arrive unchanged` },
      ])
      expect(result.output).toContain(`items 1 notes = "x'${bytes}'": not valid ${encoding}`)
    })
  }
})

describe('values in problems', () => {
  // Each value prints as the file holds it: JSON has no Infinity (JSON.stringify gave `null`)
  // and no bytes (a blob inside a key of two columns printed as `{"0":1}`).
  test('print as the file holds them, in the output and in the report, also inside a key of several columns', async () => {
    const rows = realisticRows()
    rows.items!.push(item(11, { category_id: Infinity }))
    const blob = new Uint8Array([1])
    rows.setup_items!.push({ id: 5, setup_id: blob, item_id: 1, classification: 'base' }, { id: 6, setup_id: blob, item_id: 1, classification: 'base' })
    writeLegacyFile(fx.file, rows, '', looseDdl.replace(/FOREIGN KEY[^\n]*\n/g, ''))
    const reportPath = path.join(fx.dir, 'report.json')

    const result = await runImport(fx.file, fx.target, { reportPath })

    expect(result.status).toBe('refused')
    // Infinity is no integer: the wrong type, not a reference to a category `null`.
    expect(result.output).toContain('items 11 category_id = "Infinity": expected an integer, found real')
    expect(result.output).not.toContain('null')
    expect(result.output).toContain(`setup_items 6 setup_id, item_id = ["x'01'",1]: same setup_id, item_id as id 5`)
    expect(result.output).not.toContain('{"0":1}')
    const report = JSON.parse(readFileSync(reportPath, 'utf8'))
    expect(report.problems).toContainEqual(expect.objectContaining({ kind: 'duplicate', table: 'setup_items', id: 6, value: ["x'01'", 1] }))
    expect(report.problems.filter((p: Problem) => p.table === 'items')).toEqual([expect.objectContaining({ kind: 'wrong_type', id: 11, value: 'Infinity' })])
  })
})

describe('the report of a run that fails', () => {
  test("says it failed, in place of an earlier run's report", async () => {
    writeLegacyFile(fx.file, realisticRows())
    const reportPath = path.join(fx.dir, 'report.json')
    writeFileSync(reportPath, JSON.stringify({ status: 'imported', message: 'imported and verified' }))
    const unreachable = () => {
      throw new Error('the target cannot be reached')
    }
    await expect(runImport(fx.file, fx.target, { reportPath, openTarget: unreachable })).rejects.toThrow('the target cannot be reached')
    expect(JSON.parse(readFileSync(reportPath, 'utf8'))).toMatchObject({
      file: fx.file,
      status: 'failed',
      exitCode: 1,
      message: 'the target cannot be reached',
    })
  })
})

describe('values the scan passed that the database refused', () => {
  // Each made the COPY, an index build or a setval fail with a bare SQL error naming no row.
  test('an indexed name longer than an index entry holds, an id no sequence continues after, and sqlite_sequence values no id sequence takes, are problems', async () => {
    const rows = realisticRows()
    const long = 'é'.repeat(MAX_INDEXED_TEXT_BYTES / 2 + 1)
    rows.items!.push(item(11, { name: long }), item(2_147_483_647, {}))
    const sequences = `update sqlite_sequence set seq = 'abc' where name = 'items';
      update sqlite_sequence set seq = 12.5 where name = 'setups';
      insert or replace into sqlite_sequence (name, seq) values ('threads', 2147483647);`
    writeLegacyFile(fx.file, rows, sequences)
    const before = await targetState(fx.target.db)

    const result = await runImport(fx.file, fx.target)

    expect(result.status).toBe('refused')
    const seq = (id: string, kind: Problem['kind'], value: unknown, message: string) => ({ kind, table: 'sqlite_sequence', id, column: 'seq', value, message })
    expect(result.problems).toEqual([
      seq('items', 'wrong_type', 'abc', 'expected an integer, found text'),
      seq('setups', 'wrong_type', 12.5, 'expected an integer, found real'),
      seq('threads', 'check_violation', 2147483647, 'must be at most 2147483646'),
      {
        kind: 'check_violation',
        table: 'items',
        id: 11,
        column: 'name',
        value: long,
        message: `longer than ${MAX_INDEXED_TEXT_BYTES} bytes (UTF-8), more than the target's index on it holds`,
      },
      // The id sequence would have to continue after it.
      { kind: 'check_violation', table: 'items', id: 2_147_483_647, column: 'id', value: 2_147_483_647, message: 'must be at most 2147483646' },
    ])
    expect(await targetState(fx.target.db)).toEqual(before)
  })
})

describe('ids below 1', () => {
  // The API addresses rows only by positive ids, and its paging cursors take no other: such a
  // row could not be read, changed or deleted, nor a list paged past it.
  test('in a key or a reference are problems, and --skip-invalid leaves their rows out', async () => {
    const rows = realisticRows()
    rows.categories!.push({ id: -3, name: 'Below', icon: 'x', created_at: T })
    rows.items!.push(item(0, {}), item(11, { category_id: -3 }))
    rows.threads![1]!.resolved_candidate_id = -1
    rows.setup_items!.push({ id: 5, setup_id: 1, item_id: 0, classification: 'base' })
    rows.sessions!.push({ id: 'z'.repeat(64), user_id: 0, expires_at: T })
    writeLegacyFile(fx.file, rows)
    const before = await targetState(fx.target.db)

    const refused = await runImport(fx.file, fx.target)

    expect(refused.status).toBe('refused')
    const belowOne = (table: string, id: number | string, column: string, value: number): Problem => ({
      kind: 'check_violation',
      table,
      id,
      column,
      value,
      message: 'must be at least 1',
    })
    expect(refused.problems).toEqual([
      belowOne('categories', -3, 'id', -3),
      belowOne('items', 0, 'id', 0),
      belowOne('items', 11, 'category_id', -3),
      belowOne('threads', 4, 'resolved_candidate_id', -1),
      belowOne('setup_items', 5, 'item_id', 0),
      belowOne('sessions', 'z'.repeat(64), 'user_id', 0),
    ])
    expect(refused.output).toContain('items 0 id = 0: must be at least 1')
    expect(await targetState(fx.target.db)).toEqual(before)

    const rejectsPath = path.join(fx.dir, 'rejects.jsonl')
    const skipped = await runImport(fx.file, fx.target, { skipInvalid: true, rejectsPath })

    expect(skipped.status).toBe('imported')
    expect(skipped.verification.every((v) => v.ok)).toBe(true)
    const rejects = readRejects(rejectsPath)
    for (const p of refused.problems) expect(rejects).toContainEqual(expect.objectContaining({ table: p.table, id: p.id, reasons: [p] }))
    const ids = async (table: 'categories' | 'items' | 'threads' | 'setup_items') =>
      (await fx.target.db.selectFrom(table).select('id').orderBy('id').execute()).map((r) => r.id)
    expect(await ids('categories')).toEqual([1, 2, 7])
    expect(await ids('items')).toEqual([1, 2, 5, 9, 10])
    expect(await ids('threads')).not.toContain(4)
    expect(await ids('setup_items')).not.toContain(5)
    expect(await fx.target.db.selectFrom('sessions').select('id').where('id', '=', 'z'.repeat(64)).execute()).toEqual([])
  })
})

describe('a text key that is not valid text', () => {
  // The U+FFFD check looked the row up by its decoded key, which no stored key matched (a crash:
  // `null is not an object`), or which found another row, whose key really holds U+FFFD.
  for (const [encoding, setting, session] of [
    ['UTF-8', '61ff', 'c3'],
    ['UTF-16le', '00d84100', '00dc'],
    ['UTF-16be', 'd8000041', 'dc00'],
  ] as const) {
    test(`${encoding}: names its row by the key's bytes, and --skip-invalid leaves only that row out`, async () => {
      const rows = realisticRows()
      // The invalid setting decodes as this key (UTF-8: a and U+FFFD); no session decodes as the invalid one.
      rows.settings = [{ key: 'a\uFFFD', value: 'really U+FFFD' }]
      rows.sessions!.push({ id: 'b\uFFFD', user_id: 1, expires_at: T })
      const invalid = `insert into settings values (cast(x'${setting}' as text), 'v');
        insert into sessions values (cast(x'${session}' as text), 1, ${T});`
      writeLegacyFile(fx.file, rows, invalid, encoding === 'UTF-8' ? legacyDdl : ddlIn(encoding))

      const refused = await runImport(fx.file, fx.target)

      expect(refused.status).toBe('refused')
      const invalidKey = (table: string, column: string, hex: string): Problem => ({
        kind: 'invalid_text',
        table,
        id: `x'${hex}'`,
        column,
        value: `x'${hex}'`,
        message: `not valid ${encoding}; it would not arrive unchanged`,
      })
      expect(refused.problems).toEqual([invalidKey('sessions', 'id', session), invalidKey('settings', 'key', setting)])
      expect(refused.output).toContain(`settings "x'${setting}'" key = "x'${setting}'": not valid ${encoding}`)

      const rejectsPath = path.join(fx.dir, 'rejects.jsonl')
      const skipped = await runImport(fx.file, fx.target, { skipInvalid: true, rejectsPath })

      expect(skipped.status).toBe('imported')
      expect(skipped.verification.every((v) => v.ok)).toBe(true)
      const rejects = readRejects(rejectsPath)
      expect(rejects.map((l) => [l.table, l.id])).toEqual([
        ['sessions', `x'${session}'`],
        ['settings', `x'${setting}'`],
      ])
      expect(await fx.target.db.selectFrom('settings').select(['key', 'value']).execute()).toEqual([{ key: 'a\uFFFD', value: 'really U+FFFD' }])
      expect(await fx.target.db.selectFrom('sessions').select('id').where('id', '=', 'b\uFFFD').execute()).toEqual([{ id: 'b\uFFFD' }])
    })
  }
})
