import { Database } from 'bun:sqlite'
import { describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { sql } from 'kysely'
import { writeLargeLegacyFile } from '../../scripts/large-legacy-file'
import { quoteIdent as quote } from '../../src/db/bulk'
import { exportLegacyFile } from '../../src/import/export'
import { legacyTables } from '../../src/import/legacy-schema'
import { pgliteTarget } from '../../src/import/target'
import { rejection } from '../support/failures'
import { ddlIn, deletedRows, type LegacyRows, realisticRows, runImport, useImportFixture, writeLegacyFile } from '../support/legacy-sqlite'

const fx = useImportFixture()

/** Every legacy table as stored: each value with its SQLite storage class, JSON parsed; and sqlite_sequence. */
function contents(file: string) {
  const db = new Database(file, { readonly: true })
  const tables = Object.fromEntries(
    legacyTables.map((spec) => {
      const select = spec.columns.flatMap((c) => [`typeof(${quote(c.name)})`, quote(c.name)]).join(', ')
      const rows = db.query<unknown[], []>(`select ${select} from ${quote(spec.name)} order by ${quote(spec.key)}`).values()
      const values = rows.map((row) =>
        spec.columns.map((c, i) => {
          const value = row[2 * i + 1]
          // Reals bit for bit (Object.is tells -0 and 0 apart); JSON by value, as jsonb keeps no spacing.
          if (typeof value === 'number' && c.kind.type === 'real') return [row[2 * i], Buffer.from(new Float64Array([value]).buffer).toString('hex')]
          if (c.kind.type === 'json-strings' && typeof value === 'string') return [row[2 * i], JSON.parse(value)]
          return [row[2 * i], value]
        }),
      )
      return [spec.name, values]
    }),
  )
  const sequences = db.query('select name, seq from sqlite_sequence order by name').all()
  db.close()
  return { tables, sequences }
}

async function exportTo(file: string, force = false) {
  let text = ''
  const result = await exportLegacyFile({ file, force, openTarget: () => fx.target.target(), out: { write: (s: string) => (text += s) } })
  return { ...result, text }
}

const cases: [string, () => void][] = [
  ['the realistic file', () => writeLegacyFile(fx.file, realisticRows())],
  ['deleted rows and an emptied table', () => writeLegacyFile(fx.file, realisticRows(), deletedRows)],
  ['a UTF-16le file', () => writeLegacyFile(fx.file, withReplacementCharacter(), '', ddlIn('UTF-16le'))],
  ['a UTF-16be file', () => writeLegacyFile(fx.file, withReplacementCharacter(), '', ddlIn('UTF-16be'))],
  ['a large file', () => writeLargeLegacyFile(fx.file, 5000)],
]

function withReplacementCharacter(): LegacyRows {
  const rows = realisticRows()
  rows.items![0]!.notes = 'a real \uFFFD, \uFEFF and 🔥'
  return rows
}

describe('SQLite -> PostgreSQL -> SQLite', () => {
  for (const [name, write] of cases) {
    test(`${name} comes back with the same rows, values and sequences; importing the export verifies`, async () => {
      write()
      expect((await runImport(fx.file, fx.target)).status).toBe('imported')
      const out = path.join(fx.dir, 'exported.db')
      const result = await exportTo(out)
      expect(result.status).toBe('exported')
      expect(result.roundedTimestamps).toBe(0)

      const [before, after] = [contents(fx.file), contents(out)]
      for (const spec of legacyTables) expect([spec.name, after.tables[spec.name]]).toEqual([spec.name, before.tables[spec.name]])
      expect(after.sequences).toEqual(before.sequences)

      const again = await runImport(out, fx.target, { replace: true })
      expect(again.status).toBe('imported')
      expect(again.verification.every((v) => v.ok)).toBe(true)
    })
  }

  test('text comes back byte for byte (UTF-8)', async () => {
    writeLegacyFile(fx.file, realisticRows())
    await runImport(fx.file, fx.target)
    const out = path.join(fx.dir, 'exported.db')
    await exportTo(out)
    const bytes = (file: string) => {
      const db = new Database(file, { readonly: true })
      const rows = db.query(`select hex(name), hex(notes) from items order by id`).values()
      db.close()
      return rows
    }
    expect(bytes(out)).toEqual(bytes(fx.file))
  })

  test('a database with no GearBox schema is refused in one line, and no file is written', async () => {
    const file = path.join(fx.dir, 'no-schema.db')
    // The target closes its PGlite when the export is done with it.
    const target = () => pgliteTarget(new PGlite(), 'the test PGlite')
    const failed = await rejection(exportLegacyFile({ file, openTarget: target, out: { write: () => {} } }))
    expect((failed as Error).message).toBe('the test PGlite holds no GearBox schema (no applied migrations); nothing to export')
    expect(existsSync(file)).toBe(false)
  })

  test('refuses an existing file unless --force; a fraction of a second is rounded down and counted, and so is a -0', async () => {
    writeLegacyFile(fx.file, realisticRows())
    await runImport(fx.file, fx.target)
    const out = path.join(fx.dir, 'exported.db')
    writeFileSync(out, 'keep me')
    const refused = await exportTo(out)
    expect(refused).toMatchObject({ status: 'refused', exitCode: 1, message: `refused: ${out} already exists; pass --force to replace it` })
    expect(readFileSync(out, 'utf8')).toBe('keep me')

    await fx.target.db
      .updateTable('items')
      .set({ updated_at: new Date(1_700_000_000_250) })
      .where('id', '=', 1)
      .execute()
    // Written by hand (the drivers send -0 as "0"); SQLite keeps a REAL of integral value as an integer, so no sign.
    await sql`update thread_candidates set sort_order = '-0'::float8 where id = 4`.execute(fx.target.db)
    const forced = await exportTo(out, true)
    expect(forced.status).toBe('exported')
    expect(forced).toMatchObject({ roundedTimestamps: 1, negativeZeros: 1 })
    expect(forced.text).toContain('1 timestamp(s) had a fraction of a second')
    expect(forced.text).toContain('1 number(s) were -0, which SQLite stores as 0: written as 0')
    const db = new Database(out, { readonly: true })
    expect(db.query('select updated_at from items where id = 1').get()).toEqual({ updated_at: 1_700_000_000 })
    db.close()
  })
})
