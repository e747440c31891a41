import { Database, SQLiteError } from 'bun:sqlite'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { quoteIdent, sequenceHighWater } from '../db/bulk'
import { type ColumnSpec, legacyDdl, legacyTables } from './legacy-schema'
import type { Output } from './report'
import type { Target, TargetSession } from './target'

export interface ExportOptions {
  /** The legacy file to write. */
  file: string
  /** Replace `file` when it exists. */
  force?: boolean
  openTarget: () => Target
  out: Output
}

export interface ExportOutcome {
  status: 'exported' | 'refused'
  exitCode: number
  message: string
  tables: { table: string; rows: number }[]
  /** Timestamps with a fraction of a second, which the legacy format cannot hold: written rounded down. */
  roundedTimestamps: number
  /** Numbers that were -0, which SQLite stores as 0 (a REAL of integral value is kept as an integer): written as 0. */
  negativeZeros: number
}

/** What the legacy format cannot hold as it is, counted as it is written. */
type Changes = Pick<ExportOutcome, 'roundedTimestamps' | 'negativeZeros'>

/** One column as the target stores it, selected so that its legacy value comes back exactly. */
function selectColumn(column: ColumnSpec): string {
  const c = quoteIdent(column.name)
  const kind = column.kind
  switch (kind.type) {
    case 'int':
    case 'text':
    case 'enum':
      return c
    case 'real':
      // The 8 IEEE bytes: no text round trip, so every bit arrives.
      return `encode(float8send(${c}), 'hex')`
    case 'time':
      return `date_part('epoch', ${c})::text`
    case 'bool':
      return `${c}::int`
    case 'json-strings':
      return `${c}::text`
    default:
      return kind satisfies never
  }
}

/** Turns a selected value into what the legacy file stores; counts in `changes` what it cannot hold as it is. */
function legacyValue(column: ColumnSpec, value: unknown, changes: Changes): unknown {
  if (value === null) return null
  const kind = column.kind
  switch (kind.type) {
    case 'int':
    case 'bool':
    case 'text':
    case 'enum':
      return value
    case 'real': {
      const n = Buffer.from(value as string, 'hex').readDoubleBE(0)
      if (Object.is(n, -0)) changes.negativeZeros++
      return n
    }
    case 'time': {
      const seconds = Number(value)
      if (!Number.isInteger(seconds)) changes.roundedTimestamps++
      return Math.floor(seconds)
    }
    case 'json-strings':
      // The old app wrote JSON.stringify's compact form; jsonb prints `", "` between elements.
      return JSON.stringify(JSON.parse(value as string))
    default:
      return kind satisfies never
  }
}

/** Every legacy table's rows in key order, and each id sequence's high-water mark (the last id handed out, 0 for none). */
async function readTarget(session: TargetSession, name: string) {
  // One snapshot for every table, and nothing written.
  await session.query('set transaction isolation level repeatable read, read only')
  const [schema] = await session.query<{ migrated: boolean }>(`select to_regclass('kysely_migration') is not null as migrated`)
  if (!schema!.migrated || (await session.query<{ n: number }>('select count(*)::int as n from kysely_migration'))[0]!.n === 0) {
    throw new Error(`${name} holds no GearBox schema (no applied migrations); nothing to export`)
  }
  const tables: { rows: unknown[][]; highWater?: number }[] = []
  for (const spec of legacyTables) {
    const select = spec.columns.map((c, i) => `${selectColumn(c)} as c${i}`).join(', ')
    const result = await session.query<Record<string, unknown>>(`select ${select} from ${quoteIdent(spec.name)} order by ${quoteIdent(spec.key)}`)
    const rows = result.map((r) => spec.columns.map((_, i) => r[`c${i}`]))
    let highWater: number | undefined
    if (spec.columns.find((c) => c.name === spec.key)!.kind.type === 'int') {
      highWater = await sequenceHighWater(session, spec.name, spec.key)
    }
    tables.push({ rows, highWater })
  }
  return tables
}

/**
 * Writes the target's data as a legacy GearBox SQLite file (the old app's DDL, seconds, 0/1,
 * JSON text, sqlite_sequence at each table's high-water mark), so an install can go back to
 * the SQLite version. The file appears whole or not at all (written beside it, then
 * renamed). Refuses an existing file unless `force` (status 'refused', its message for the
 * caller to print). Throws when the target cannot be read.
 */
export async function exportLegacyFile(options: ExportOptions): Promise<ExportOutcome> {
  const { file, out } = options
  if (existsSync(file) && !options.force) {
    const message = `refused: ${file} already exists; pass --force to replace it`
    return { status: 'refused', exitCode: 1, message, tables: [], roundedTimestamps: 0, negativeZeros: 0 }
  }
  const target = options.openTarget()
  out.write(`exporting ${target.name} to ${file}\n`)
  let tables: Awaited<ReturnType<typeof readTarget>>
  try {
    tables = await target.transaction((session) => readTarget(session, target.name))
  } finally {
    await target.close()
  }

  const partial = `${file}.partial-${process.pid}`
  // SQLite's rollback journal sits beside the file while a transaction writes: removed with it.
  const removePartial = () => {
    for (const suffix of ['', '-journal']) rmSync(`${partial}${suffix}`, { force: true })
  }
  removePartial()
  const changes: Changes = { roundedTimestamps: 0, negativeZeros: 0 }
  const db = new Database(partial, { create: true, strict: true })
  try {
    db.exec(legacyDdl)
    db.transaction(() => {
      legacyTables.forEach((spec, t) => {
        const insert = db.prepare(
          `insert into ${quoteIdent(spec.name)} (${spec.columns.map((c) => quoteIdent(c.name)).join(', ')}) values (${spec.columns.map(() => '?').join(', ')})`,
        )
        for (const row of tables[t]!.rows) insert.run(...(spec.columns.map((c, i) => legacyValue(c, row[i], changes)) as never[]))
        const highWater = tables[t]!.highWater
        // AUTOINCREMENT keeps the largest id ever issued here; a table that never had one has no row.
        db.prepare('delete from sqlite_sequence where name = ?').run(spec.name)
        if (highWater) db.prepare('insert into sqlite_sequence (name, seq) values (?, ?)').run(spec.name, highWater)
      })
    })()
    db.close()
    renameSync(partial, file)
  } catch (error) {
    db.close()
    removePartial()
    // SQLite's own errors here are the file's (SQLITE_FULL: "database or disk is full"): named by it.
    if (error instanceof SQLiteError) throw new Error(`cannot write ${file}: ${error.message}`, { cause: error })
    throw error
  }
  const summary = legacyTables.map((spec, t) => ({ table: spec.name, rows: tables[t]!.rows.length }))
  for (const s of summary) out.write(`${s.table.padEnd(18)} ${String(s.rows).padStart(8)} rows\n`)
  if (changes.roundedTimestamps > 0)
    out.write(`${changes.roundedTimestamps} timestamp(s) had a fraction of a second, which the legacy format cannot hold: written rounded down to the second\n`)
  if (changes.negativeZeros > 0) out.write(`${changes.negativeZeros} number(s) were -0, which SQLite stores as 0: written as 0\n`)
  const message = `exported to ${file}`
  out.write(`${message}\n`)
  return { status: 'exported', exitCode: 0, message, tables: summary, ...changes }
}
