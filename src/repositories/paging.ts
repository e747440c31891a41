import { type RawBuilder, sql } from 'kysely'
import { ValidationError } from '../errors'

/** The largest page a list hands out at once (api.md's Conventions: `limit` 1-1000). */
export const MAX_PAGE_LIMIT = 1000

/**
 * One page of a list: at most `limit` entries after the position `cursor` names (from the
 * start when absent). Paging is by keyset, never by offset: a cursor holds the sort key of the
 * last entry handed out, so rows added or removed meanwhile never make a page skip or repeat one.
 */
export interface PageRequest {
  limit: number
  cursor?: string
}

export interface Page<T> {
  entries: T[]
  /** Where the next page starts; absent on the last page. */
  nextCursor?: string
}

type KeyPart = string | number

/** The opaque cursor for a sort key: base64url of its JSON. */
export function encodeCursor(key: KeyPart[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/**
 * The longest cursor a list hands out when its text sort keys hold at most `maxText`
 * characters: the JSON of such a text of the characters that take the most bytes there (a
 * control character's `\u0001`, 6) and the largest id, in base64url.
 */
export const maxCursorLength = (maxText: number) => encodeCursor(['\u0001'.repeat(maxText), 2_147_483_647]).length

type KeyKind = 'string' | 'integer' | 'id'

/** Whether a cursor's part is of its kind: a value some row could hold, so comparing with it cannot fail. */
const isOfKind: Record<KeyKind, (part: unknown) => boolean> = {
  // Text PostgreSQL can hold: no NUL.
  string: (part) => typeof part === 'string' && !part.includes('\0'),
  // Fits int8 exactly.
  integer: (part) => Number.isSafeInteger(part),
  // A row id: a positive PostgreSQL integer (MAX_INT4; schemas/common imports this file).
  id: (part) => Number.isSafeInteger(part) && (part as number) >= 1 && (part as number) <= 2_147_483_647,
}

/**
 * The sort key a cursor holds, checked against the kinds the list sorts by ('string', an
 * 'integer' that fits int8 exactly, or an 'id'). Throws ValidationError (path `query.cursor`)
 * for anything this list did not hand out.
 */
export function decodeCursor<const K extends readonly KeyKind[]>(cursor: string, kinds: K): { [I in keyof K]: K[I] extends 'string' ? string : number } {
  let key: unknown
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    key = undefined
  }
  const fits = Array.isArray(key) && key.length === kinds.length && key.every((part, i) => isOfKind[kinds[i]!](part))
  if (!fits) throw new ValidationError('invalid cursor', [{ path: 'query.cursor', message: 'is not a cursor this list handed out' }])
  return key as { [I in keyof K]: K[I] extends 'string' ? string : number }
}

/**
 * Rows fetched with `limit + 1` become a page: the extra row only says that more remain, and
 * the cursor is the sort key of the last row handed out.
 */
export function toPage<R, T>(rows: R[], limit: number, toEntry: (row: R) => T, keyOf: (row: R) => KeyPart[]): Page<T> {
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept.at(-1)
  return { entries: kept.map(toEntry), ...(more && last !== undefined ? { nextCursor: encodeCursor(keyOf(last)) } : {}) }
}

/**
 * A timestamptz as whole microseconds since 1970 (an exact int8): a JavaScript Date keeps only
 * milliseconds, too coarse for a cursor over timestamps PostgreSQL stores in microseconds.
 */
export const epochMicros = (column: string): RawBuilder<number> => sql<number>`(extract(epoch from ${sql.ref(column)}) * 1000000)::int8`

/** The timestamptz `micros` microseconds after 1970, exactly; the inverse of epochMicros. */
export const fromEpochMicros = (micros: number): RawBuilder<Date> => sql<Date>`(timestamptz 'epoch' + ${micros}::int8 * interval '1 microsecond')`
