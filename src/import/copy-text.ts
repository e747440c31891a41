import type { ColumnSpec } from './legacy-schema'

const SPECIAL = /[\\\t\n\r]/
const SPECIAL_ALL = /[\\\t\n\r]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/**
 * One normalized value as a field of PostgreSQL's COPY text format. Doubles use JS's
 * shortest round-trip digits, which PostgreSQL (12+) reads back to the same bits;
 * epoch seconds become an ISO instant in UTC; 0/1 become f/t.
 */
export function copyField(column: ColumnSpec, value: unknown): string {
  if (value === null) return '\\N'
  switch (column.kind.type) {
    case 'int':
      return String(value)
    case 'real':
      return Object.is(value, -0) ? '-0' : String(value)
    case 'time':
      return new Date((value as number) * 1000).toISOString()
    case 'bool':
      return value === 1 ? 't' : 'f'
    default: {
      const text = value as string
      return SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : text
    }
  }
}

/** Rows as COPY text, in chunks of about `chunkRows` rows, so a big table streams. */
export function* copyChunks(columns: ColumnSpec[], rows: unknown[][], chunkRows = 5000): Generator<{ text: string; rows: number }> {
  for (let start = 0; start < rows.length; start += chunkRows) {
    const end = Math.min(rows.length, start + chunkRows)
    let text = ''
    for (let r = start; r < end; r++) {
      const row = rows[r]!
      let line = ''
      for (let c = 0; c < columns.length; c++) line += (c === 0 ? '' : '\t') + copyField(columns[c]!, row[c])
      text += `${line}\n`
    }
    yield { text, rows: end - start }
  }
}
