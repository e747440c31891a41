import { readFileSync } from 'node:fs'
import path from 'node:path'

/** The old app's DDL (legacy-schema.sql): what the export writes and test files are built from. */
export const legacyDdl = readFileSync(path.join(import.meta.dir, 'legacy-schema.sql'), 'utf8')

/**
 * What the importer knows about the legacy SQLite schema (legacy-schema.sql)
 * and about the PostgreSQL constraints each column must satisfy (migrations/*). Column names
 * are the same on both sides.
 */
import { MAX_INDEXED_TEXT_BYTES, MAX_PRICE_CENTS, MAX_QUANTITY, MAX_WEIGHT_GRAMS } from '../schemas/common'

export type ColumnKind =
  | { type: 'int'; min?: number; max?: number }
  | { type: 'real'; min?: number; max?: number }
  /** maxBytes: the most UTF-8 bytes a value may take (an indexed column; see MAX_INDEXED_TEXT_BYTES). */
  | { type: 'text'; maxBytes?: number }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'time' }
  | { type: 'bool' }
  | { type: 'json-strings' }

export interface ColumnSpec {
  name: string
  kind: ColumnKind
  nullable: boolean
  /** The legacy column refers to this table's column (never enforced by the old app). */
  ref?: { table: string; column: string }
}

export interface TableSpec {
  name: string
  /** Primary key: rows are read, loaded and checksummed in this order. */
  key: string
  columns: ColumnSpec[]
  /** Column sets the target keeps unique (besides the key). */
  unique: string[][]
}

const int = (name: string, min?: number, max?: number): ColumnSpec => ({ name, kind: { type: 'int', min, max }, nullable: false })
/**
 * The smallest id a legacy row may have, or refer to: the API addresses rows only by positive
 * ids (`must be a positive integer`), and its paging cursors take no other.
 */
export const MIN_ID = 1
// Every reference is to an integer id, except oauth_*.client_id -> oauth_clients.client_id (text).
const ref = (name: string, table: string, column = 'id', nullable = false): ColumnSpec => ({
  name,
  kind: column === 'id' ? { type: 'int', min: MIN_ID } : { type: 'text' },
  nullable,
  ref: { table, column },
})
const text = (name: string, nullable = false): ColumnSpec => ({ name, kind: { type: 'text' }, nullable })

/** A text column that a key or index of the target holds: a longer value would make the import fail as the index is built, so the scan reports it. */
const indexed = (name: string, nullable = false): ColumnSpec => ({ name, kind: { type: 'text', maxBytes: MAX_INDEXED_TEXT_BYTES }, nullable })
const time = (name: string, nullable = false): ColumnSpec => ({ name, kind: { type: 'time' }, nullable })
const enumOf = (name: string, values: string[]): ColumnSpec => ({ name, kind: { type: 'enum', values }, nullable: false })
const bool = (name: string): ColumnSpec => ({ name, kind: { type: 'bool' }, nullable: false })
// *_weight_grams_check / *_price_cents_check: never negative; the *_max_check constraints: the upper bounds.
const weight: ColumnSpec = { name: 'weight_grams', kind: { type: 'real', min: 0, max: MAX_WEIGHT_GRAMS }, nullable: true }
const price: ColumnSpec = { name: 'price_cents', kind: { type: 'int', min: 0, max: MAX_PRICE_CENTS }, nullable: true }
/** The largest id a legacy row may have: its sequence continues after it, within PostgreSQL's integer. */
export const MAX_ID = 2_147_483_646
const id = int('id', MIN_ID, MAX_ID)

const gear = [text('notes', true), text('product_url', true), text('image_filename', true), text('image_source_url', true)]

/** In load order: every parent before its children (threads.resolved_candidate_id is set afterwards). */
export const legacyTables: TableSpec[] = [
  { name: 'categories', key: 'id', columns: [id, indexed('name'), text('icon'), time('created_at')], unique: [['name']] },
  {
    name: 'items',
    key: 'id',
    columns: [
      id,
      indexed('name'),
      weight,
      price,
      ref('category_id', 'categories'),
      ...gear,
      int('quantity', 1, MAX_QUANTITY),
      time('created_at'),
      time('updated_at'),
    ],
    unique: [],
  },
  {
    name: 'threads',
    key: 'id',
    columns: [
      id,
      text('name'),
      enumOf('status', ['active', 'resolved']),
      ref('resolved_candidate_id', 'thread_candidates', 'id', true),
      ref('category_id', 'categories'),
      time('created_at'),
      time('updated_at'),
    ],
    unique: [],
  },
  {
    name: 'thread_candidates',
    key: 'id',
    columns: [
      id,
      ref('thread_id', 'threads'),
      text('name'),
      weight,
      price,
      ref('category_id', 'categories'),
      ...gear,
      enumOf('status', ['researching', 'ordered', 'arrived']),
      text('pros', true),
      text('cons', true),
      { name: 'sort_order', kind: { type: 'real' }, nullable: false },
      time('created_at'),
      time('updated_at'),
    ],
    unique: [],
  },
  { name: 'setups', key: 'id', columns: [id, indexed('name'), time('created_at'), time('updated_at')], unique: [] },
  {
    name: 'setup_items',
    key: 'id',
    columns: [id, ref('setup_id', 'setups'), ref('item_id', 'items'), enumOf('classification', ['base', 'worn', 'consumable'])],
    unique: [['setup_id', 'item_id']],
  },
  {
    name: 'users',
    key: 'id',
    columns: [id, indexed('username'), text('password_hash'), time('created_at')],
    unique: [['username']],
  },
  { name: 'sessions', key: 'id', columns: [indexed('id'), ref('user_id', 'users'), time('expires_at')], unique: [] },
  {
    name: 'api_keys',
    key: 'id',
    columns: [id, ref('user_id', 'users'), text('name'), indexed('key_hash'), text('key_prefix'), time('last_used_at', true), time('created_at')],
    unique: [['key_hash']],
  },
  {
    name: 'oauth_clients',
    key: 'id',
    columns: [
      id,
      indexed('client_id'),
      text('client_name', true),
      { name: 'redirect_uris', kind: { type: 'json-strings' }, nullable: false },
      time('created_at'),
    ],
    unique: [['client_id']],
  },
  {
    name: 'oauth_codes',
    key: 'id',
    columns: [
      id,
      indexed('code_hash'),
      ref('client_id', 'oauth_clients', 'client_id'),
      ref('user_id', 'users'),
      text('redirect_uri'),
      text('code_challenge'),
      enumOf('code_challenge_method', ['S256']),
      text('scope', true),
      time('expires_at'),
      bool('used'),
      time('created_at'),
    ],
    unique: [['code_hash']],
  },
  {
    name: 'oauth_tokens',
    key: 'id',
    columns: [
      id,
      indexed('access_token_hash'),
      indexed('refresh_token_hash', true),
      ref('client_id', 'oauth_clients', 'client_id'),
      ref('user_id', 'users'),
      text('scope', true),
      time('expires_at'),
      time('refresh_expires_at', true),
      bool('revoked'),
      time('created_at'),
    ],
    unique: [['access_token_hash'], ['refresh_token_hash']],
  },
  { name: 'settings', key: 'key', columns: [indexed('key'), text('value')], unique: [] },
]

export function tableSpec(name: string): TableSpec {
  const spec = legacyTables.find((t) => t.name === name)
  if (!spec) throw new Error(`unknown legacy table ${name}`)
  return spec
}
