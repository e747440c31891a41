import type { ColumnSpec } from './legacy-schema'

// PostgreSQL's binary COPY format: a fixed header, per row a field count and per field a
// length (-1 for NULL) and the value in the type's binary form, then a -1 trailer. Doubles
// go over as their 8 IEEE bytes, so they arrive bit for bit; the server parses no text.
const HEADER = Buffer.from([...Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), 0, 0, 0, 0, 0, 0, 0, 0])
const POSTGRES_EPOCH = 946_684_800 // 2000-01-01T00:00:00Z in Unix seconds
const TWO_32 = 4_294_967_296

class Writer {
  pos = 0
  constructor(public buf: Buffer) {}

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes))
    this.buf.copy(bigger, 0, 0, this.pos)
    this.buf = bigger
  }

  int16(n: number): void {
    this.ensure(2)
    this.pos = this.buf.writeInt16BE(n, this.pos)
  }

  /** A field: its length, then what `write` puts at the given offset (returning the end). */
  field(maxBytes: number, write: (buf: Buffer, at: number) => number): void {
    this.ensure(4 + maxBytes)
    const end = write(this.buf, this.pos + 4)
    this.buf.writeInt32BE(end - this.pos - 4, this.pos)
    this.pos = end
  }
}

function writeField(w: Writer, column: ColumnSpec, value: unknown): void {
  if (value === null) {
    w.ensure(4)
    w.pos = w.buf.writeInt32BE(-1, w.pos)
    return
  }
  const kind = column.kind
  switch (kind.type) {
    case 'int':
      return w.field(4, (b, at) => b.writeInt32BE(value as number, at))
    case 'real':
      return w.field(8, (b, at) => b.writeDoubleBE(value as number, at))
    case 'time': {
      // timestamptz: int64 microseconds since 2000-01-01 UTC (well inside 2^53 for 1970..2100).
      const micros = ((value as number) - POSTGRES_EPOCH) * 1_000_000
      const high = Math.floor(micros / TWO_32)
      return w.field(8, (b, at) => b.writeUInt32BE(micros - high * TWO_32, b.writeInt32BE(high, at)))
    }
    case 'bool':
      return w.field(1, (b, at) => b.writeUInt8(value === 1 ? 1 : 0, at))
    case 'json-strings': {
      // jsonb: a version byte (1), then the JSON text.
      const text = value as string
      return w.field(1 + text.length * 3, (b, at) => b.writeUInt8(1, at) + b.write(text, at + 1, 'utf8'))
    }
    case 'text':
    case 'enum': {
      const text = value as string
      return w.field(text.length * 3, (b, at) => at + b.write(text, at, 'utf8'))
    }
    default:
      return kind satisfies never
  }
}

/**
 * Rows `from` to `to` (exclusive) as binary COPY data: with the format's header when `from`
 * is 0, with its trailer when `to` is the last row, so consecutive ranges make one COPY.
 */
export function copyData(columns: ColumnSpec[], rows: unknown[][], from: number, to: number): Uint8Array {
  // Room for most rows at once: growing by doubling copies and allocates again and again.
  const w = new Writer(Buffer.allocUnsafe(Math.max(1 << 16, (to - from) * columns.length * 16)))
  if (from === 0) {
    w.ensure(HEADER.length)
    w.pos += HEADER.copy(w.buf, 0)
  }
  for (let r = from; r < to; r++) {
    const row = rows[r]!
    w.int16(columns.length)
    for (let c = 0; c < columns.length; c++) writeField(w, columns[c]!, row[c])
  }
  if (to === rows.length) w.int16(-1)
  return w.buf.subarray(0, w.pos)
}

/** Rows as binary COPY data, in chunks of about `chunkRows` rows, so a big table streams. */
export function* copyChunks(columns: ColumnSpec[], rows: unknown[][], chunkRows = 5000): Generator<{ data: Uint8Array; rows: number }> {
  let start = 0
  do {
    const end = Math.min(rows.length, start + chunkRows)
    yield { data: copyData(columns, rows, start, end), rows: end - start }
    start = end
  } while (start < rows.length)
}
