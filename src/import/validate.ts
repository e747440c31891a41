import type { ColumnSpec } from './legacy-schema'
import type { ProblemKind } from './problems'

/** Seconds at 2100-01-01T00:00:00Z: later values are almost surely milliseconds. */
export const YEAR_2100 = 4_102_444_800
const YEAR_2100_N = BigInt(YEAR_2100)
const INT4_MIN = -2_147_483_648
const INT4_MAX = 2_147_483_647
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why a value cannot be copied. (A class, so the valid path allocates nothing.) */
export class Invalid {
  constructor(
    readonly kind: ProblemKind,
    readonly message: string,
  ) {}
}

const fail = (kind: ProblemKind, message: string) => new Invalid(kind, message)
const pass = (value: unknown) => value

/**
 * Checks one stored SQLite value (read with safeIntegers, so its JS type is its storage
 * class: bigint = integer, number = real, string = text, Uint8Array = blob) against what
 * the target column accepts. A passing value comes back in the importer's normal form
 * (integers as numbers, everything else as read); a failing one as an Invalid.
 */
export function checkValue(column: ColumnSpec, raw: unknown): unknown {
  if (raw === null) return column.nullable ? pass(null) : fail('not_null', 'required, but NULL')
  const kind = column.kind
  switch (kind.type) {
    case 'int': {
      if (typeof raw !== 'bigint') return fail('wrong_type', `expected an integer, found ${storageClass(raw)}`)
      if (raw < INT4_MIN || raw > INT4_MAX) return fail('out_of_range', 'outside the 32-bit integer range')
      const n = Number(raw)
      if (kind.min !== undefined && n < kind.min) return fail('check_violation', `must be at least ${kind.min}`)
      if (kind.max !== undefined && n > kind.max) return fail('check_violation', `must be at most ${kind.max}`)
      return pass(n)
    }
    case 'real': {
      let n: number
      if (typeof raw === 'number') n = raw
      else if (typeof raw === 'bigint' && Number.isSafeInteger(Number(raw))) n = Number(raw)
      else return fail('wrong_type', `expected a number, found ${storageClass(raw)}`)
      if (!Number.isFinite(n)) return fail('check_violation', 'must be a finite number')
      if (kind.min !== undefined && n < kind.min) return fail('check_violation', `must be at least ${kind.min}`)
      if (kind.max !== undefined && n > kind.max) return fail('check_violation', `must be at most ${kind.max}`)
      return pass(n)
    }
    case 'time': {
      if (typeof raw !== 'bigint') return fail('wrong_type', `expected integer seconds, found ${storageClass(raw)}`)
      if (raw < 0n) return fail('invalid_timestamp', 'before 1970-01-01')
      if (raw > YEAR_2100_N) return fail('timestamp_after_2100', 'after 2100-01-01; probably milliseconds, not seconds')
      return pass(Number(raw))
    }
    case 'bool': {
      if (typeof raw !== 'bigint') return fail('wrong_type', `expected 0 or 1, found ${storageClass(raw)}`)
      if (raw !== 0n && raw !== 1n) return fail('not_in_set', 'must be 0 or 1')
      return pass(Number(raw))
    }
    case 'text':
    case 'enum':
    case 'json-strings': {
      if (typeof raw !== 'string') return fail('wrong_type', `expected text, found ${storageClass(raw)}`)
      if (raw.includes('\0')) return fail('nul_character', 'contains a NUL character')
      if (kind.type === 'enum' && !kind.values.includes(raw)) return fail('not_in_set', `must be one of ${kind.values.join(', ')}`)
      if (kind.type === 'json-strings') return checkJsonStrings(raw)
      // A UTF-16 unit takes at most 3 bytes: only a long value is measured.
      if (kind.type === 'text' && kind.maxBytes !== undefined && raw.length * 3 > kind.maxBytes && Buffer.byteLength(raw) > kind.maxBytes)
        return fail('check_violation', `longer than ${kind.maxBytes} bytes (UTF-8), more than the target's index on it holds`)
      return pass(raw)
    }
    default:
      return kind satisfies never
  }
}

function checkJsonStrings(raw: string): unknown {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return fail('invalid_json', 'not valid JSON')
  }
  if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'string')) {
    return fail('invalid_json', 'not a JSON array of strings')
  }
  // jsonb rejects \u0000 and unpaired surrogates, which JSON.parse lets through.
  if (parsed.some((e) => e.includes('\0'))) return fail('nul_character', 'a JSON string contains \\u0000')
  if (parsed.some((e) => UNPAIRED_SURROGATE.test(e))) return fail('invalid_json', 'a JSON string has an unpaired surrogate')
  return pass(raw)
}

function storageClass(raw: unknown): string {
  if (typeof raw === 'bigint') return 'integer'
  if (typeof raw === 'number') return 'real'
  if (typeof raw === 'string') return 'text'
  return 'blob'
}
