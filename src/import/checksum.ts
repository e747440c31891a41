import { createHash } from 'node:crypto'
import { quoteIdent } from '../db/bulk'
import type { ColumnSpec, TableSpec } from './legacy-schema'

/*
 * Both sides write every row as the same canonical text and hash all rows in key order.
 * The source side builds it in TypeScript from the values read from SQLite; the target
 * side builds it in SQL from the stored columns. Neither uses the COPY encoding, so a
 * conversion mistake on the way in shows up as a different checksum.
 *   NULL -> N;  integer -> decimal;  double -> hex of its 8 IEEE bytes;
 *   timestamp -> epoch seconds (a fraction would show);  boolean -> true/false;
 *   text -> <UTF-8 byte length>:<text>;  JSON array of strings -> [<n>] then each element as text, comma-separated.
 */

export interface Checksum {
  rows: number
  md5: string
}

const float = new DataView(new ArrayBuffer(8))

function sourceField(column: ColumnSpec, value: unknown): string {
  if (value === null) return 'N'
  const kind = column.kind
  switch (kind.type) {
    case 'int':
      return String(value)
    case 'real':
      float.setFloat64(0, value as number)
      return hex32(float.getUint32(0)) + hex32(float.getUint32(4))
    case 'time':
      return String(value)
    case 'bool':
      return value === 1 ? 'true' : 'false'
    case 'json-strings': {
      const elements = JSON.parse(value as string) as string[]
      return `[${elements.length}]${elements.map(sizedText).join(',')}`
    }
    case 'text':
    case 'enum':
      return sizedText(value as string)
    default:
      return kind satisfies never
  }
}

const hex32 = (n: number) => n.toString(16).padStart(8, '0')
const sizedText = (text: string) => `${Buffer.byteLength(text, 'utf8')}:${text}`

/** The checksum of rows as read from the legacy file (normalized, in key order). */
export function sourceChecksum(spec: TableSpec, rows: unknown[][]): Checksum {
  const hash = createHash('md5')
  const columns = spec.columns
  let text = ''
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    let line = r === 0 ? '' : '\n'
    for (let c = 0; c < columns.length; c++) line += (c === 0 ? '' : '|') + sourceField(columns[c]!, row[c])
    text += line
    // Hashing in pieces of ~1 MB: one update per row costs more than the hashing itself.
    if (text.length > 1 << 20) {
      hash.update(text)
      text = ''
    }
  }
  hash.update(text)
  return { rows: rows.length, md5: hash.digest('hex') }
}

function targetField(column: ColumnSpec): string {
  const c = quoteIdent(column.name)
  const kind = column.kind
  const expr = (() => {
    switch (kind.type) {
      case 'int':
      case 'bool':
        return `${c}::text`
      case 'real':
        return `encode(float8send(${c}), 'hex')`
      case 'time':
        // date_part gives a double: whole seconds print as integers, any fraction shows.
        return `date_part('epoch', ${c})::text`
      case 'json-strings':
        return `'[' || jsonb_array_length(${c}) || ']' || coalesce((select string_agg(octet_length(e) || ':' || e, ',' order by o)
          from jsonb_array_elements_text(${c}) with ordinality as x(e, o)), '')`
      case 'text':
      case 'enum':
        return `octet_length(${c}) || ':' || ${c}`
      default:
        return kind satisfies never
    }
  })()
  return `coalesce(${expr}, 'N')`
}

/** The SQL that computes the same checksum from the target table; `where` narrows the rows. */
export function targetChecksumSql(spec: TableSpec, where = 'true'): string {
  const row = `concat_ws('|', ${spec.columns.map(targetField).join(', ')})`
  const key = spec.columns.find((c) => c.name === spec.key)!.kind.type === 'int' ? quoteIdent(spec.key) : `${quoteIdent(spec.key)} collate "C"`
  return `select count(*)::int as rows, md5(coalesce(string_agg(${row}, E'\\n' order by ${key}), '')) as md5
    from ${quoteIdent(spec.name)} where ${where}`
}
