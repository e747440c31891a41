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

// Each byte's two lowercase hex digits, as the low and high byte of one 16-bit entry.
const HEX_DIGITS = Uint16Array.from({ length: 256 }, (_, i) => {
  const hex = i.toString(16).padStart(2, '0')
  return hex.charCodeAt(0) | (hex.charCodeAt(1) << 8)
})
const [NULL, BAR, NEWLINE, COLON, COMMA] = ['N', '|', '\n', ':', ','].map((c) => c.charCodeAt(0)) as [number, number, number, number, number]
// The canonical text goes to the hash in pieces of about this many bytes.
const PIECE = 1 << 20

/**
 * The canonical text of rows, written as UTF-8 straight into a buffer that is hashed whenever
 * it holds a piece: building JS strings and encoding them again cost more than the hashing.
 */
class CanonicalText {
  private readonly hash = createHash('md5')
  private buf = Buffer.allocUnsafe(2 * PIECE)
  private pos = 0

  /** Room for `bytes` more; hashes what is written first when it would not fit. */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    this.flush()
    if (bytes > this.buf.length) this.buf = Buffer.allocUnsafe(bytes)
  }

  private flush(): void {
    this.hash.update(this.buf.subarray(0, this.pos))
    this.pos = 0
  }

  byte(code: number): void {
    this.room(1)
    this.buf[this.pos++] = code
  }

  ascii(text: string): void {
    this.room(text.length)
    this.pos += this.buf.write(text, this.pos, 'latin1')
  }

  /** `<UTF-8 byte length>:<text>`: the text goes in first, after room for the length, and moves up. */
  sizedText(text: string): void {
    const lengthRoom = 11 // ten digits and the colon
    this.room(lengthRoom + text.length * 3)
    const at = this.pos + lengthRoom
    const bytes = this.buf.write(text, at, 'utf8')
    this.ascii(String(bytes))
    this.buf[this.pos++] = COLON
    this.buf.copyWithin(this.pos, at, at + bytes)
    this.pos += bytes
  }

  /** The 8 IEEE bytes of a double, big-endian, in hex. */
  doubleHex(value: number): void {
    this.room(24)
    const at = this.pos + 16
    this.buf.writeDoubleBE(value, at)
    for (let i = 0; i < 8; i++) {
      const digits = HEX_DIGITS[this.buf[at + i]!]!
      this.buf[this.pos++] = digits & 0xff
      this.buf[this.pos++] = digits >> 8
    }
  }

  field(column: ColumnSpec, value: unknown): void {
    if (value === null) return this.byte(NULL)
    const kind = column.kind
    switch (kind.type) {
      case 'int':
      case 'time':
        return this.ascii(String(value))
      case 'real':
        return this.doubleHex(value as number)
      case 'bool':
        return this.ascii(value === 1 ? 'true' : 'false')
      case 'json-strings': {
        const elements = JSON.parse(value as string) as string[]
        this.ascii(`[${elements.length}]`)
        elements.forEach((element, i) => {
          if (i > 0) this.byte(COMMA)
          this.sizedText(element)
        })
        return
      }
      case 'text':
      case 'enum':
        return this.sizedText(value as string)
      default:
        return kind satisfies never
    }
  }

  /** Rows are separated by a newline, fields by a bar. */
  row(columns: ColumnSpec[], row: unknown[], first: boolean): void {
    if (this.pos > PIECE) this.flush()
    if (!first) this.byte(NEWLINE)
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) this.byte(BAR)
      this.field(columns[c]!, row[c])
    }
  }

  digest(): string {
    this.flush()
    return this.hash.digest('hex')
  }
}

/** The checksum of rows as read from the legacy file (normalized, in key order). */
export function sourceChecksum(spec: TableSpec, rows: unknown[][]): Checksum {
  const text = new CanonicalText()
  for (let r = 0; r < rows.length; r++) text.row(spec.columns, rows[r]!, r === 0)
  return { rows: rows.length, md5: text.digest() }
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
