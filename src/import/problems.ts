/** Everything that keeps a legacy row from arriving unchanged, with where it was found. */
export type ProblemKind =
  | 'dangling_reference'
  | 'wrong_type'
  | 'timestamp_after_2100'
  | 'invalid_timestamp'
  | 'not_in_set'
  | 'nul_character'
  | 'invalid_text'
  | 'invalid_json'
  | 'not_null'
  | 'check_violation'
  | 'out_of_range'
  | 'duplicate'
  | 'missing_image'
  /** Only with --skip-invalid: the row's parent was left out, so the row must go too. */
  | 'parent_left_out'

export interface Problem {
  kind: ProblemKind
  table: string
  /** The row's primary key (id, or sessions.id / settings.key: their bytes in hex, `x'61ff'`, when not valid text). */
  id: number | string
  column: string
  value: unknown
  message: string
}

export const problemTitles: Record<ProblemKind, string> = {
  dangling_reference: 'References to rows that do not exist',
  wrong_type: 'Values of the wrong type',
  timestamp_after_2100: 'Timestamps after the year 2100 (milliseconds instead of seconds?)',
  invalid_timestamp: 'Timestamps before 1970',
  not_in_set: 'Values outside the allowed set',
  nul_character: 'Text with NUL characters (PostgreSQL cannot store them)',
  invalid_text: "Text that is not valid in the file's encoding",
  invalid_json: 'Invalid JSON (or not a JSON array of strings)',
  not_null: 'Missing values in required columns',
  check_violation: 'Values the target constraints reject',
  out_of_range: 'Numbers out of range for their column',
  duplicate: 'Duplicates of a value that must be unique',
  missing_image: 'Images missing from the uploads folder',
  parent_left_out: 'Rows left out because a row they belong to was left out',
}

/**
 * A value as JSON can carry it: big integers, blobs and non-finite numbers become strings, in
 * a list (a key of several columns) too.
 */
export function jsonSafe(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonSafe)
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString()
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value)
  if (value instanceof Uint8Array) return `x'${Buffer.from(value).toString('hex')}'`
  return value
}

/** A value as a problem's message shows it: its jsonSafe form as JSON (`"x'01'"`, `"Infinity"`, `"250g"`, `12`). */
export const printed = (value: unknown): string => JSON.stringify(jsonSafe(value))
