import { constants, Database } from 'bun:sqlite'
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { quoteIdent } from '../db/bulk'
import { type ColumnSpec, legacyTables, MAX_ID, type TableSpec } from './legacy-schema'
import { jsonSafe, type Problem, printed } from './problems'
import { checkValue, Invalid } from './validate'

/** The input is not a GearBox SQLite file; the message is meant for the user as is. */
export class LegacyFileError extends Error {}

export interface SourceTable {
  spec: TableSpec
  /** Every row in key order; a column's value is normalized when it passed its check, raw otherwise. */
  rows: unknown[][]
  /** Problems per row index. */
  problems: ReadonlyMap<number, readonly Problem[]>
  /**
   * Tables with an integer id: the highest id SQLite ever issued, max(max(id), sqlite_sequence.seq)
   * (AUTOINCREMENT never hands out an id again, not even a deleted row's); 0 for none.
   */
  highWater?: number
  /**
   * Rows whose text key (sessions.id, settings.key) is not valid in the file's encoding: the
   * key's stored bytes, which name the row in problems (the decoded key may be another row's too).
   */
  invalidKeys?: ReadonlyMap<number, Uint8Array>
}

/** SQLite's text encodings (`PRAGMA encoding`). */
export type TextEncoding = 'UTF-8' | 'UTF-16le' | 'UTF-16be'

export interface ScanResult {
  tables: SourceTable[]
  problems: Problem[]
  encoding: TextEncoding
}

// Tables of the legacy file that hold no user data and are not copied.
const IGNORED_TABLES = new Set(['__drizzle_migrations', 'sqlite_sequence'])

/**
 * Opens `path` read-only, integers as bigint (`safeIntegers`). A file in WAL mode needs its
 * `-shm` file, which SQLite creates beside it; in a folder it cannot write (read-only
 * storage, or a folder this user may not write) that fails, and a file whose `-wal` file holds no changes is opened `immutable`
 * instead (SQLite's URI parameter, https://sqlite.org/uri.html), which reads exactly what the
 * main file holds and needs neither. Throws SQLite's error (with its `code`), or
 * LegacyFileError when the `-wal` file holds changes that only a writable folder lets SQLite read.
 */
function openReadOnly(path: string): Database {
  const probe = (db: Database) => {
    try {
      db.query('select count(*) from sqlite_master').get()
      return db
    } catch (error) {
      db.close()
      throw error
    }
  }
  try {
    return probe(new Database(path, { readonly: true, safeIntegers: true }))
  } catch (error) {
    if (!cannotWriteBeside(error) || !inWalMode(path)) throw error
    const wal = `${path}-wal`
    if (existsSync(wal) && statSync(wal).size > 0) {
      throw new LegacyFileError(
        `${path}: it is in WAL mode and ${wal} holds changes that SQLite reads only by creating ${path}-shm, which this folder does not allow (read-only storage); copy the file and its -wal file to a folder that can be written and import that copy`,
      )
    }
    return probe(openImmutable(path))
  }
}

/**
 * SQLite could not create or write the `-wal` or `-shm` file beside the database: CANTOPEN on a
 * read-only mount, READONLY_DIRECTORY in a folder this user may not write, and the other
 * READONLY and CANTOPEN codes (extended codes: https://sqlite.org/rescode.html).
 */
const cannotWriteBeside = (error: unknown) => /^SQLITE_(CANTOPEN|READONLY)(_|$)/.test(String((error as { code?: unknown }).code))

/** The file's header says WAL mode: its read and write versions (bytes 18 and 19) are 2 (https://sqlite.org/fileformat.html). */
function inWalMode(path: string): boolean {
  const header = Buffer.alloc(20)
  const fd = openSync(path, 'r')
  try {
    return readSync(fd, header, 0, 20, 0) === 20 && header[18] === 2 && header[19] === 2
  } finally {
    closeSync(fd)
  }
}

/**
 * `path` opened `immutable` and read-only, its statements answering integers as bigint as
 * `safeIntegers` does (which flags given as a number cannot set).
 */
function openImmutable(path: string): Database {
  const db = new Database(`${pathToFileURL(path).href}?immutable=1`, constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI)
  const [query, prepare] = [db.query.bind(db), db.prepare.bind(db)]
  db.query = ((sql: string) => query(sql).safeIntegers(true)) as Database['query']
  db.prepare = ((sql: string) => prepare(sql).safeIntegers(true)) as Database['prepare']
  return db
}

/** Opens the legacy file read-only; throws LegacyFileError when it is not a GearBox database. */
export function openLegacyFile(path: string): Database {
  if (!existsSync(path)) throw new LegacyFileError(`${path}: no such file`)
  if (!statSync(path).isFile()) throw new LegacyFileError(`${path}: not a file`)
  let db: Database
  try {
    db = openReadOnly(path)
  } catch (error) {
    if (error instanceof LegacyFileError) throw error
    const { code, message } = error as { code?: string; message?: string }
    if (code === 'SQLITE_NOTADB') throw new LegacyFileError(`${path}: not a SQLite database`)
    throw new LegacyFileError(`${path}: SQLite cannot read it: ${message} (${code ?? 'no code'})`)
  }
  const missing: string[] = []
  const tables = new Set(
    db
      .query<{ name: string }, []>(`select name from sqlite_master where type = 'table'`)
      .all()
      .map((r) => r.name),
  )
  for (const spec of legacyTables) {
    if (!tables.has(spec.name)) {
      missing.push(`table ${spec.name}`)
      continue
    }
    const present = new Set(
      db
        .query<{ name: string }, []>(`select name from pragma_table_info('${spec.name}')`)
        .all()
        .map((r) => r.name),
    )
    for (const c of spec.columns) if (!present.has(c.name)) missing.push(`column ${spec.name}.${c.name}`)
    const unknown = [...present].filter((name) => !spec.columns.some((c) => c.name === name))
    if (unknown.length > 0) missing.push(`nothing to put ${unknown.map((u) => `${spec.name}.${u}`).join(', ')} in`)
  }
  const extra = [...tables].filter((t) => !IGNORED_TABLES.has(t) && !t.startsWith('sqlite_') && !legacyTables.some((s) => s.name === t))
  if (extra.length > 0) missing.push(`unknown table(s) ${extra.join(', ')}`)
  if (missing.length > 0) {
    db.close()
    throw new LegacyFileError(
      `${path}: not a GearBox database in the schema this import reads (${missing.join('; ')}); ` +
        "if it is an older GearBox's file, start the old app's last version on it once, which brings its schema up to date",
    )
  }
  return db
}

/** Hears the rows of each table as they pass their checks, for as long as the scan has found no problem. */
export interface ScanListener {
  /**
   * Rows `from` to `to` (exclusive) of `rows`, the whole table in key order, passed every
   * check of their values, and so did everything read before them. Called in order, the last
   * time with `to === rows.length` (once with 0, 0 for an empty table). The scan waits for it.
   */
  rows(spec: TableSpec, rows: unknown[][], from: number, to: number): Promise<void>
}

// Rows checked between two calls of ScanListener.rows.
const LISTEN_ROWS = 5000

/**
 * Reads every row of every table and collects every problem, without stopping at the first.
 * Checks that span tables (references, duplicates) run after the last table is read, so a
 * listener may have heard rows that a later problem makes unusable.
 */
export async function scanLegacyFile(db: Database, listener?: ScanListener): Promise<ScanResult> {
  const encoding = db.query<{ encoding: TextEncoding }, []>('pragma encoding').get()!.encoding
  const hasSequences = db.query(`select 1 from sqlite_master where type = 'table' and name = 'sqlite_sequence'`).get() !== null
  const sequenceProblems: Problem[] = []
  const sequences = new Map<string, number>()
  for (const { name, seq } of hasSequences ? db.query<{ name: unknown; seq: unknown }, []>('select name, seq from sqlite_sequence').all() : []) {
    if (!legacyTables.some((t) => t.name === name && t.columns.find((c) => c.name === t.key)!.kind.type === 'int')) continue
    // The id sequence continues after it, so the next id must still fit PostgreSQL's integer.
    const checked = checkValue(SEQUENCE_COLUMN, seq)
    if (checked instanceof Invalid)
      sequenceProblems.push({ kind: checked.kind, table: 'sqlite_sequence', id: name as string, column: 'seq', value: jsonSafe(seq), message: checked.message })
    else sequences.set(name as string, (checked as number | null) ?? 0)
  }
  const tables: ScanTable[] = []
  for (const spec of legacyTables) {
    const clean = sequenceProblems.length === 0 && tables.every((t) => t.problems.size === 0)
    tables.push(await readTable(db, spec, encoding, sequences.get(spec.name) ?? 0, clean ? listener : undefined))
  }
  const byName = new Map(tables.map((t) => [t.spec.name, t]))
  const parents = new ParentValues(byName)
  for (const table of tables) {
    checkReferences(table, parents)
    checkUnique(table)
  }
  checkSeedCategory(byName.get('categories')!)
  const problems = [...sequenceProblems, ...tables.flatMap((t) => [...t.problems.values()].flat())]
  return { tables, problems, encoding }
}

/** sqlite_sequence.seq as the scan checks it: 0 up to one below PostgreSQL's largest integer (NULL counts as 0). */
const SEQUENCE_COLUMN: ColumnSpec = { name: 'seq', kind: { type: 'int', min: 0, max: MAX_ID }, nullable: true }

type ScanTable = Omit<SourceTable, 'problems' | 'invalidKeys'> & { problems: Map<number, Problem[]>; invalidKeys: Map<number, Uint8Array> }

const isText = (c: ColumnSpec) => c.kind.type === 'text' || c.kind.type === 'enum' || c.kind.type === 'json-strings'

async function readTable(db: Database, spec: TableSpec, encoding: TextEncoding, sequence: number, listener?: ScanListener): Promise<ScanTable> {
  // SQLite decodes UTF-16 leniently (a lone surrogate takes whatever follows as its pair), so
  // a UTF-16 file's text is read as the bytes stored, after the columns, and decoded strictly here.
  const decoder = encoding === 'UTF-8' ? undefined : new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true })
  const texts = decoder ? spec.columns.flatMap((c, i) => (isText(c) ? [i] : [])) : []
  const keyIndex = spec.columns.findIndex((c) => c.name === spec.key)
  const intKey = spec.columns[keyIndex]!.kind.type === 'int'
  const select = [
    ...spec.columns.map((c) => quoteIdent(c.name)),
    ...texts.map((i) => `case when typeof(${quoteIdent(spec.columns[i]!.name)}) = 'text' then cast(${quoteIdent(spec.columns[i]!.name)} as blob) end`),
  ]
  // Where a row's stored bytes are looked up: an integer key is the rowid; a text key is what
  // SQLite decoded, which may match no stored key (bytes that are not UTF-8) or another row's.
  const rowidAt = intKey ? keyIndex : select.push('rowid') - 1
  const rows = db.query<unknown[], []>(`select ${select.join(', ')} from ${quoteIdent(spec.name)} order by ${quoteIdent(spec.key)}`).values() as unknown[][]
  const table: ScanTable = { spec, rows, problems: new Map(), invalidKeys: new Map() }
  if (decoder && texts.includes(keyIndex)) sortByUtf8Key(rows, spec.columns.length + texts.indexOf(keyIndex), encoding)
  if (intKey) {
    const key = quoteIdent(spec.key)
    const max = db.query<{ id: bigint | null }, []>(`select max(${key}) as id from ${quoteIdent(spec.name)} where typeof(${key}) = 'integer'`).get()!.id
    table.highWater = Math.max(sequence, Number(max ?? 0))
  }
  const columns = spec.columns.length
  if (rows.length === 0) await listener?.rows(spec, rows, 0, 0)
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    const rowid = row[rowidAt]
    // Only a UTF-16 file has text to decode here; a UTF-8 file's rows allocate nothing.
    const undecodable = decoder ? new Set<number>() : undefined
    texts.forEach((c, t) => {
      const bytes = row[columns + t] as Uint8Array | null
      if (bytes === null) return
      try {
        row[c] = utf16Text(decoder!, bytes, encoding)
      } catch {
        undecodable!.add(c)
        if (c === keyIndex) table.invalidKeys.set(r, bytes)
        addProblem(table, r, {
          kind: 'invalid_text',
          column: spec.columns[c]!.name,
          value: bytes,
          message: `not valid ${encoding}; it would not arrive unchanged`,
        })
      }
    })
    row.length = columns
    for (let c = 0; c < columns; c++) {
      if (undecodable?.has(c)) continue
      const column = spec.columns[c]!
      const raw = row[c]
      const checked = checkValue(column, raw)
      if (checked instanceof Invalid) {
        addProblem(table, r, { kind: checked.kind, column: column.name, value: raw, message: checked.message })
        continue
      }
      row[c] = checked
      // In a UTF-8 file a U+FFFD is either really there or stands for bytes that are not UTF-8: the stored bytes tell.
      if (!decoder && typeof checked === 'string' && checked.includes('\uFFFD')) {
        const bytes = storedBytes(db, spec, column, rowid)
        // The bytes as stored, in hex: the decoded text would show only replacement characters.
        if (!Buffer.from(checked, 'utf8').equals(bytes)) {
          if (c === keyIndex) table.invalidKeys.set(r, bytes)
          addProblem(table, r, { kind: 'invalid_text', column: column.name, value: bytes, message: 'not valid UTF-8; it would not arrive unchanged' })
        }
      }
    }
    const checked = r + 1
    if (listener && table.problems.size === 0 && (checked % LISTEN_ROWS === 0 || checked === rows.length))
      await listener.rows(spec, rows, checked - ((checked - 1) % LISTEN_ROWS) - 1, checked)
  }
  return table
}

/** Text stored as UTF-16 bytes in the file's byte order, decoded as `decoder` (strict or not) does. */
const utf16Text = (decoder: TextDecoder, bytes: Uint8Array, encoding: TextEncoding) =>
  decoder.decode(encoding === 'UTF-16be' ? Buffer.from(bytes).swap16() : bytes)

/**
 * Puts the rows of a UTF-16 file's table with a text key (sessions, settings) in the order of
 * their keys' UTF-8 bytes, the order the target's checksum reads them in (`collate "C"`).
 * SQLite orders them by their UTF-16 bytes, which differs beyond ASCII (U+0100 before U+00FF
 * in UTF-16le; U+FF71 after U+10000 in UTF-16be). `at`: the column of the key's stored bytes.
 */
function sortByUtf8Key(rows: unknown[][], at: number, encoding: TextEncoding): void {
  // A key that is not valid UTF-16 is reported by the scan; here it only needs a place.
  const decoder = new TextDecoder('utf-16le', { ignoreBOM: true })
  const utf8 = new Map(
    rows.map((row) => {
      const bytes = row[at] as Uint8Array | null
      const text = bytes === null ? '' : utf16Text(decoder, bytes, encoding)
      return [row, Buffer.from(text, 'utf8')]
    }),
  )
  rows.sort((a, b) => Buffer.compare(utf8.get(a)!, utf8.get(b)!))
}

/** The bytes `column` of the row with `rowid` holds. */
function storedBytes(db: Database, spec: TableSpec, column: ColumnSpec, rowid: unknown): Buffer {
  const row = db
    .query<{ bytes: Uint8Array }, [never]>(`select cast(${quoteIdent(column.name)} as blob) as bytes from ${quoteIdent(spec.name)} where rowid = ?`)
    .get(rowid as never)
  return Buffer.from(row!.bytes)
}

function rowKey(table: Pick<SourceTable, 'spec' | 'rows' | 'invalidKeys'>, r: number): number | string {
  const value = table.invalidKeys?.get(r) ?? table.rows[r]![table.spec.columns.findIndex((c) => c.name === table.spec.key)]
  return jsonSafe(value) as number | string
}

/**
 * A problem with row `r` of `table`, keyed by the row's id (or sessions.id / settings.key; their
 * stored bytes in hex, `x'61ff'`, when they are not valid text).
 */
export function rowProblem(table: Pick<SourceTable, 'spec' | 'rows' | 'invalidKeys'>, r: number, p: Omit<Problem, 'table' | 'id'>): Problem {
  return { kind: p.kind, table: table.spec.name, id: rowKey(table, r), column: p.column, value: jsonSafe(p.value), message: p.message }
}

function addProblem(table: ScanTable, r: number, p: Omit<Problem, 'table' | 'id'>): void {
  const problem = rowProblem(table, r, p)
  const list = table.problems.get(r)
  if (list) list.push(problem)
  else table.problems.set(r, [problem])
}

/** Membership in a referenced column's values: numbers by binary search, other values in a Set. */
interface Values {
  has(value: unknown): boolean
}

/** Numbers, sorted once: a lookup is a binary search (a Set of 200,000 numbers costs more to build). */
class SortedNumbers implements Values {
  private readonly sorted: Float64Array
  constructor(values: unknown[]) {
    this.sorted = Float64Array.from(values.filter((v): v is number => typeof v === 'number')).sort()
  }

  has(value: unknown): boolean {
    if (typeof value !== 'number') return false
    const sorted = this.sorted
    let [low, high] = [0, sorted.length - 1]
    while (low <= high) {
      const middle = (low + high) >>> 1
      const v = sorted[middle]!
      if (v < value) low = middle + 1
      else if (v > value) high = middle - 1
      else return true
    }
    return false
  }
}

/** The values of each referenced column, collected once however many columns refer to it. */
class ParentValues {
  private readonly values = new Map<string, Values>()
  constructor(private readonly byName: Map<string, SourceTable>) {}

  of(ref: { table: string; column: string }): Values {
    const name = `${ref.table}.${ref.column}`
    let values = this.values.get(name)
    if (!values) {
      const table = this.byName.get(ref.table)!
      const c = table.spec.columns.findIndex((col) => col.name === ref.column)
      const column = table.rows.map((row) => row[c])
      values = table.spec.columns[c]!.kind.type === 'int' ? new SortedNumbers(column) : new Set(column)
      this.values.set(name, values)
    }
    return values
  }
}

function checkReferences(table: ScanTable, parentValues: ParentValues): void {
  table.spec.columns.forEach((column, c) => {
    if (!column.ref) return
    const parents = parentValues.of(column.ref)
    const wanted = column.kind.type === 'int' ? 'number' : 'string'
    table.rows.forEach((row, r) => {
      const value = row[c]
      // Wrong types (a fraction or Infinity in an integer column too) are already reported; NULL
      // is allowed where the column is nullable.
      if (typeof value !== wanted || (wanted === 'number' && !Number.isInteger(value)) || parents.has(value)) return
      addProblem(table, r, {
        kind: 'dangling_reference',
        column: column.name,
        value,
        message: `${column.ref!.table}.${column.ref!.column} = ${printed(value)} does not exist`,
      })
    })
  })
}

function checkUnique(table: ScanTable): void {
  for (const set of table.spec.unique) {
    const indexes = set.map((name) => table.spec.columns.findIndex((c) => c.name === name))
    // One level of maps per column, keyed as the values print in a problem (jsonSafe), so two
    // values collide exactly when their JSON does; the last level holds the first row's index.
    const seen = new Map<unknown, unknown>()
    table.rows.forEach((row, r) => {
      const values = indexes.map((i) => row[i])
      // NULLs never collide in a PostgreSQL unique constraint.
      if (values.some((v) => v === null || v === undefined)) return
      let level = seen
      for (const value of values.slice(0, -1)) {
        const key = jsonSafe(value)
        let next = level.get(key) as Map<unknown, unknown> | undefined
        if (!next) {
          next = new Map()
          level.set(key, next)
        }
        level = next
      }
      const key = jsonSafe(values.at(-1))
      const first = level.get(key) as number | undefined
      if (first === undefined) return void level.set(key, r)
      addProblem(table, r, {
        kind: 'duplicate',
        column: set.join(', '),
        value: values.length === 1 ? values[0] : values,
        message: `same ${set.join(', ')} as ${table.spec.key} ${printed(rowKey(table, first))}`,
      })
    })
  }
}

/**
 * GearBox needs category 1 "Uncategorized" (the fallback for deleted categories). A file
 * without category 1 gets the seed row kept, which collides with another category of that name.
 */
function checkSeedCategory(categories: ScanTable): void {
  const [id, name] = [0, 1]
  if (categories.rows.some((row) => row[id] === 1)) return
  categories.rows.forEach((row, r) => {
    if (row[name] !== 'Uncategorized') return
    addProblem(categories, r, {
      kind: 'duplicate',
      column: 'name',
      value: row[name],
      message: 'the file has no category 1, so the import keeps the built-in category 1 "Uncategorized", and names must be unique',
    })
  })
}
