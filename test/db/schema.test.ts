import { describe, expect, test } from 'bun:test'
import { type Kysely, sql } from 'kysely'
import type { DB } from '../../src/db/types'
import { ConflictError, ValidationError } from '../../src/errors'
import { legacyDdl as legacySql } from '../../src/import/legacy-schema'
import { MAX_PRICE_CENTS, MAX_QUANTITY, MAX_WEIGHT_GRAMS } from '../../src/schemas/common'
import { useTestDatabase } from '../support/database'

interface LegacyColumn {
  name: string
  type: string
  notNull: boolean
  default?: string
  references?: { table: string; column: string; onDelete: string }
}

// The legacy file is the spec for table and column names: parse its CREATE TABLE lists.
const legacy = new Map<string, LegacyColumn[]>()
for (const [, table, body] of legacySql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?[`"](\w+)[`"] \(([\s\S]*?)\n\);/g)) {
  if (table === '__drizzle_migrations') continue // the old migration bookkeeping, not a table of ours
  const columns = [...body!.matchAll(/^\s*`(\w+)` (\w+)([^\n]*)/gm)].map(([, name, type, rest]): LegacyColumn => {
    const ref = rest!.match(/REFERENCES `(\w+)`\(`(\w+)`\)(?: ON DELETE (\w+))?/)
    return {
      name: name!,
      type: type!,
      notNull: /NOT NULL/.test(rest!),
      default: rest!.match(/DEFAULT ('[^']*'|\S+)/)?.[1],
      references: ref ? { table: ref[1]!, column: ref[2]!, onDelete: ref[3] ?? 'no action' } : undefined,
    }
  })
  legacy.set(table!, columns)
}

/** The PostgreSQL type the issue asks for, given the legacy column. */
function expectedType(c: LegacyColumn): string {
  if (c.name.endsWith('_at')) return 'timestamp with time zone'
  if (c.name === 'used' || c.name === 'revoked') return 'boolean'
  if (c.name === 'weight_grams' || c.name === 'sort_order') return 'double precision'
  if (c.name === 'redirect_uris') return 'jsonb'
  return c.type
}

/** The default our column should have, given the legacy one (timestamps now get now()). */
function expectedDefault(c: LegacyColumn): string | null {
  if (c.name === 'created_at' || c.name === 'updated_at') return 'now()'
  if (c.default === undefined) return null
  if (c.default.startsWith("'")) return `${c.default}::text`
  if (expectedType(c) === 'boolean') return c.default === '0' ? 'false' : 'true'
  return c.default
}

interface ColumnRow {
  table_name: string
  column_name: string
  data_type: string
  is_nullable: 'YES' | 'NO'
  column_default: string | null
  is_identity: 'YES' | 'NO'
}

async function columnsOf(db: Kysely<DB>, table: string): Promise<ColumnRow[]> {
  const { rows } = await sql<ColumnRow>`
    select table_name, column_name, data_type, is_nullable, column_default, is_identity
    from information_schema.columns where table_schema = 'public' and table_name = ${table}
    order by ordinal_position`.execute(db)
  return rows
}

interface ForeignKey {
  name: string
  table: string
  columns: string[]
  refTable: string
  refColumns: string[]
  onDelete: string
}

async function foreignKeys(db: Kysely<DB>): Promise<ForeignKey[]> {
  const { rows } = await sql<ForeignKey>`
    select c.conname as name, c.conrelid::regclass::text as "table", c.confrelid::regclass::text as "refTable",
      (select array_agg(a.attname::text order by k.i) from unnest(c.conkey) with ordinality k(n, i)
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n) as columns,
      (select array_agg(a.attname::text order by k.i) from unnest(c.confkey) with ordinality k(n, i)
        join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n) as "refColumns",
      case c.confdeltype when 'a' then 'no action' when 'r' then 'restrict' when 'c' then 'cascade'
        when 'n' then 'set null' when 'd' then 'set default' end as "onDelete"
    from pg_constraint c where c.contype = 'f' and c.connamespace = 'public'::regnamespace
    order by 1`.execute(db)
  return rows
}

/** Columns added after the legacy schema (at the end, so the legacy ones keep their order). */
const ADDED_COLUMNS: Record<string, string[]> = { oauth_codes: ['family_id', 'resource'], oauth_tokens: ['family_id'] }

describe('schema matches the legacy tables', () => {
  const t = useTestDatabase()

  test('the legacy file has the 13 tables', () => {
    expect(legacy.size).toBe(13)
  })

  test.each([...legacy.keys()])('%s has the legacy columns in order, with PostgreSQL types, NOT NULL and defaults', async (table) => {
    const actual = await columnsOf(t.db, table)
    expect(actual.map((c) => c.column_name)).toEqual([...legacy.get(table)!.map((c) => c.name), ...(ADDED_COLUMNS[table] ?? [])])
    for (const [i, c] of legacy.get(table)!.entries()) {
      expect({
        column: c.name,
        type: actual[i]!.data_type,
        notNull: actual[i]!.is_nullable === 'NO',
        default: actual[i]!.column_default,
      }).toEqual({ column: c.name, type: expectedType(c), notNull: c.notNull, default: expectedDefault(c) })
    }
    // AUTOINCREMENT ids became identity columns; sessions keep their text id.
    const id = actual.find((c) => c.column_name === 'id')
    expect(id?.is_identity ?? 'NO').toBe(legacy.get(table)!.find((c) => c.name === 'id')?.type === 'integer' ? 'YES' : 'NO')
  })

  test('every legacy foreign key is enforced with its ON DELETE rule, plus threads.resolved_candidate_id', async () => {
    const expected = [...legacy].flatMap(([table, columns]) =>
      columns
        .filter((c) => c.references)
        .map((c) => ({
          table,
          columns: [c.name],
          refTable: c.references!.table,
          refColumns: [c.references!.column],
          onDelete: c.references!.onDelete.toLowerCase(),
        })),
    )
    expected.push({ table: 'threads', columns: ['resolved_candidate_id'], refTable: 'thread_candidates', refColumns: ['id'], onDelete: 'set null' })
    const actual = (await foreignKeys(t.db)).filter((fk) => legacy.has(fk.table))
    const key = (fk: Omit<ForeignKey, 'name'>) => `${fk.table}(${fk.columns}) -> ${fk.refTable}(${fk.refColumns}) on delete ${fk.onDelete}`
    expect(actual.map(key).sort()).toEqual(expected.map(key).sort())
    expect(expected.length).toBe(13) // 12 from the legacy file + resolved_candidate_id
    // Named constraints: table_column_fkey, so error messages can name them.
    for (const fk of actual) expect(fk.name).toBe(`${fk.table}_${fk.columns.join('_')}_fkey`)
  })

  test('every foreign-key column leads an index', async () => {
    const { rows: indexes } = await sql<{ table: string; columns: string[] }>`
      select i.indrelid::regclass::text as "table",
        (select array_agg(a.attname::text order by k.i) from unnest(i.indkey::int2[]) with ordinality k(n, i)
          join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n) as columns
      from pg_index i join pg_class c on c.oid = i.indrelid
      where c.relnamespace = 'public'::regnamespace`.execute(t.db)
    const unindexed = (await foreignKeys(t.db)).filter(
      (fk) => !indexes.some((ix) => ix.table === fk.table && fk.columns.every((col, i) => ix.columns[i] === col)),
    )
    expect(unindexed.map((fk) => fk.name)).toEqual([])
  })
})

describe('constraints', () => {
  const t = useTestDatabase()

  // One row of every parent table, so each case below breaks exactly one rule.
  async function parents() {
    const db = t.db
    const item = await db.insertInto('items').values({ name: 'Tent', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    const thread = await db.insertInto('threads').values({ name: 'Stove', category_id: 1 }).returning('id').executeTakeFirstOrThrow()
    const setup = await db.insertInto('setups').values({ name: 'Weekend' }).returning('id').executeTakeFirstOrThrow()
    const user = await db.insertInto('users').values({ username: 'ann', password_hash: 'x' }).returning('id').executeTakeFirstOrThrow()
    await db.insertInto('oauth_clients').values({ client_id: 'c1', redirect_uris: sql`'["https://a.example/cb"]'::jsonb` }).execute()
    return { itemId: item.id, threadId: thread.id, setupId: setup.id, userId: user.id }
  }

  const future = new Date('2030-01-01T00:00:00Z')
  type Parents = Awaited<ReturnType<typeof parents>>
  const candidate = (p: Parents, v: object) => t.db.insertInto('thread_candidates').values({ thread_id: p.threadId, name: 'c', category_id: 1, ...v })
  const cases: [string, string, (p: Parents) => { execute(): Promise<unknown> }][] = [
    ['threads.status', 'threads_status_check', () => t.db.insertInto('threads').values({ name: 't', category_id: 1, status: 'archived' })],
    ['thread_candidates.status', 'thread_candidates_status_check', (p) => candidate(p, { status: 'bought' })],
    [
      'setup_items.classification',
      'setup_items_classification_check',
      (p) => t.db.insertInto('setup_items').values({ setup_id: p.setupId, item_id: p.itemId, classification: 'spare' }),
    ],
    [
      'oauth_codes.code_challenge_method',
      'oauth_codes_code_challenge_method_check',
      (p) =>
        t.db.insertInto('oauth_codes').values({
          code_hash: 'h',
          client_id: 'c1',
          user_id: p.userId,
          redirect_uri: 'https://a.example/cb',
          code_challenge: 'x',
          code_challenge_method: 'plain',
          expires_at: future,
        }),
    ],
    ['items.quantity 0', 'items_quantity_check', () => t.db.insertInto('items').values({ name: 'i', category_id: 1, quantity: 0 })],
    ['items.weight_grams < 0', 'items_weight_grams_check', () => t.db.insertInto('items').values({ name: 'i', category_id: 1, weight_grams: -0.5 })],
    [
      'items.weight_grams NaN',
      'items_weight_grams_check',
      () => t.db.insertInto('items').values({ name: 'i', category_id: 1, weight_grams: sql`'NaN'::float8` }),
    ],
    [
      'items.weight_grams Infinity',
      'items_weight_grams_check',
      () => t.db.insertInto('items').values({ name: 'i', category_id: 1, weight_grams: sql`'Infinity'::float8` }),
    ],
    ['items.price_cents < 0', 'items_price_cents_check', () => t.db.insertInto('items').values({ name: 'i', category_id: 1, price_cents: -1 })],
    ['thread_candidates.weight_grams < 0', 'thread_candidates_weight_grams_check', (p) => candidate(p, { weight_grams: -1 })],
    ['thread_candidates.weight_grams NaN', 'thread_candidates_weight_grams_check', (p) => candidate(p, { weight_grams: sql`'NaN'::float8` })],
    ['thread_candidates.price_cents < 0', 'thread_candidates_price_cents_check', (p) => candidate(p, { price_cents: -100 })],
    ['thread_candidates.sort_order Infinity', 'thread_candidates_sort_order_check', (p) => candidate(p, { sort_order: sql`'-Infinity'::float8` })],
    ['items.weight_grams 1e308', 'items_weight_grams_max_check', () => t.db.insertInto('items').values({ name: 'i', category_id: 1, weight_grams: 1e308 })],
    [
      'items.weight_grams above the bound',
      'items_weight_grams_max_check',
      () => t.db.insertInto('items').values({ name: 'i', category_id: 1, weight_grams: MAX_WEIGHT_GRAMS + 0.5 }),
    ],
    [
      'items.price_cents above the bound',
      'items_price_cents_max_check',
      () => t.db.insertInto('items').values({ name: 'i', category_id: 1, price_cents: MAX_PRICE_CENTS + 1 }),
    ],
    [
      'items.quantity above the bound',
      'items_quantity_max_check',
      () => t.db.insertInto('items').values({ name: 'i', category_id: 1, quantity: MAX_QUANTITY + 1 }),
    ],
    ['thread_candidates.weight_grams above the bound', 'thread_candidates_weight_grams_max_check', (p) => candidate(p, { weight_grams: 1e308 })],
    ['thread_candidates.price_cents above the bound', 'thread_candidates_price_cents_max_check', (p) => candidate(p, { price_cents: 2_147_483_647 })],
    [
      'oauth_clients.redirect_uris not an array',
      'oauth_clients_redirect_uris_check',
      () => t.db.insertInto('oauth_clients').values({ client_id: 'c2', redirect_uris: sql`'{"uri":"https://a.example"}'::jsonb` }),
    ],
  ]

  test.each(cases)('%s is rejected by %s', async (_, constraint, insert) => {
    const p = await parents()
    const error = await insert(p)
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).details).toEqual([{ path: constraint, message: 'violates check constraint' }])
  })

  test('the edges of the ranges are allowed', async () => {
    const p = await parents()
    await t.db.insertInto('items').values({ name: 'free', category_id: 1, weight_grams: 0, price_cents: 0, quantity: 1 }).execute()
    await t.db
      .insertInto('items')
      .values({ name: 'most', category_id: 1, weight_grams: MAX_WEIGHT_GRAMS, price_cents: MAX_PRICE_CENTS, quantity: MAX_QUANTITY })
      .execute()
    await candidate(p, { weight_grams: MAX_WEIGHT_GRAMS, price_cents: MAX_PRICE_CENTS }).execute()
    await candidate(p, { weight_grams: 0.25, price_cents: 0, sort_order: -1.5, status: 'arrived' }).execute()
    await t.db.insertInto('setup_items').values({ setup_id: p.setupId, item_id: p.itemId, classification: 'consumable' }).execute()
    expect(await t.db.selectFrom('items').select(['name', 'weight_grams', 'price_cents', 'quantity']).where('name', '=', 'free').execute()).toEqual([
      { name: 'free', weight_grams: 0, price_cents: 0, quantity: 1 },
    ])
  })

  test('ON DELETE rules: cascade from parents, set null on the resolved candidate, no action on categories', async () => {
    const p = await parents()
    const db = t.db
    const c = await candidate(p, {}).returning('id').executeTakeFirstOrThrow()
    await db.updateTable('threads').set({ status: 'resolved', resolved_candidate_id: c.id }).where('id', '=', p.threadId).execute()
    await db.insertInto('setup_items').values({ setup_id: p.setupId, item_id: p.itemId }).execute()
    await db.insertInto('sessions').values({ id: 's1', user_id: p.userId, expires_at: future }).execute()

    await db.deleteFrom('thread_candidates').where('id', '=', c.id).execute()
    expect(await db.selectFrom('threads').select('resolved_candidate_id').where('id', '=', p.threadId).executeTakeFirst()).toEqual({
      resolved_candidate_id: null,
    })
    await candidate(p, {}).execute()
    await db.deleteFrom('threads').where('id', '=', p.threadId).execute()
    expect(await db.selectFrom('thread_candidates').select('id').execute()).toEqual([])

    await db.deleteFrom('items').where('id', '=', p.itemId).execute()
    expect(await db.selectFrom('setup_items').select('id').execute()).toEqual([])
    await db.deleteFrom('users').where('id', '=', p.userId).execute()
    expect(await db.selectFrom('sessions').select('id').execute()).toEqual([])

    await db.insertInto('items').values({ name: 'Pot', category_id: 1 }).execute()
    const error = await db
      .deleteFrom('categories')
      .where('id', '=', 1)
      .execute()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConflictError)
    expect((error as ConflictError).constraint).toBe('items_category_id_fkey')
  })
})
