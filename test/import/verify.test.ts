import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { sourceChecksum } from '../../src/import/checksum'
import { copyField } from '../../src/import/copy-text'
import { tableSpec } from '../../src/import/legacy-schema'
import { loadPlan, VerificationError, verify } from '../../src/import/load'
import { type PlannedTable, planImport } from '../../src/import/plan'
import { openLegacyFile, scanLegacyFile } from '../../src/import/scan'
import type { Target } from '../../src/import/target'
import { type ImportTarget, openImportTarget, realisticRows, runImport, targetState, writeLegacyFile } from '../support/legacy-sqlite'

let dir: string
let file: string
let target: ImportTarget

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'gearbox-import-'))
  file = path.join(dir, 'gearbox.db')
  target = await openImportTarget()
  writeLegacyFile(file, realisticRows())
})
afterEach(async () => {
  await target.close()
  rmSync(dir, { recursive: true, force: true })
})

function plan(): PlannedTable[] {
  const db = openLegacyFile(file)
  const scan = scanLegacyFile(db)
  db.close()
  return planImport(scan, false)
}

const noProgress = { start() {}, advance() {}, finish() {}, step() {} }
const differing = async (t: Target) => (await t.transaction((s) => verify(s, plan()))).filter((r) => !r.ok).map((r) => r.table)

describe('verification', () => {
  test('matches after an import and catches any later difference, naming the table', async () => {
    await runImport(file, target)
    const t = target.target()
    expect(await differing(t)).toEqual([])

    // pgloader's float4 rounding, a trimmed text, a shifted instant, a changed JSON element, a lost row:
    const changes = [
      ['items', sql`update items set weight_grams = 0.3 where id = 1`],
      ['categories', sql`update categories set name = trim(name) where id = 7`],
      ['thread_candidates', sql`update thread_candidates set updated_at = updated_at + interval '1 millisecond' where id = 8`],
      ['oauth_clients', sql`update oauth_clients set redirect_uris = '["https://claude.ai/cb", "http://localhost:8080/cb?x=y"]' where id = 1`],
      ['oauth_codes', sql`update oauth_codes set used = false`],
      ['settings', sql`delete from settings where key = 'currency'`],
    ] as const
    for (const [table, change] of changes) {
      await change.execute(target.db)
      expect([table, await differing(t)]).toEqual([table, [table]])
      // Back to the imported state, so each change is seen alone.
      expect((await runImport(file, target, { replace: true })).status).toBe('imported')
    }
  }, 30_000)

  test('a value changed on the way in fails the import, names the table and writes nothing', async () => {
    const before = await targetState(target.db)
    const t = target.target()
    // A broken encoder: the COPY text of items loses the double's last digits.
    const faulty: Target = {
      ...t,
      transaction: (work) =>
        t.transaction((s) =>
          work({
            ...s,
            copyIn: (table, columns, chunks, onChunk) =>
              s.copyIn(table, columns, [...chunks].map((c) => ({ ...c, text: c.text.replace('0.30000000000000004', '0.3') })), onChunk),
          }),
        ),
    }
    const error = await faulty.transaction((s) => loadPlan(s, plan(), { replace: false }, noProgress)).catch((e) => e)
    expect(error).toBeInstanceOf(VerificationError)
    expect(error.message).toBe('verification failed: items differs from the source; nothing was written')
    expect(error.results.filter((r: { ok: boolean }) => !r.ok).map((r: { table: string }) => r.table)).toEqual(['items'])
    expect(await targetState(target.db)).toEqual(before)
  })
})

describe('the two canonical forms', () => {
  test('the source checksum sees a difference of one bit in a double', () => {
    const spec = tableSpec('setup_items')
    const a = sourceChecksum(tableSpec('items'), [[1, 'x', 0.30000000000000004, null, 1, null, null, null, null, 1, 0, 0]])
    const b = sourceChecksum(tableSpec('items'), [[1, 'x', 0.3, null, 1, null, null, null, null, 1, 0, 0]])
    expect(a.md5).not.toBe(b.md5)
    expect(sourceChecksum(spec, []).md5).toBe('d41d8cd98f00b204e9800998ecf8427e')
  })

  test('COPY fields escape what the text format needs and keep doubles exact', () => {
    const items = tableSpec('items').columns
    const [name, weight, created] = [items[1]!, items[2]!, items[10]!]
    expect(copyField(name, 'a\\b\tc\nd\re')).toBe('a\\\\b\\tc\\nd\\re')
    expect(copyField(name, '')).toBe('')
    expect(copyField(name, null)).toBe('\\N')
    expect(copyField(name, '\\N')).toBe('\\\\N')
    expect(copyField(weight, 0.30000000000000004)).toBe('0.30000000000000004')
    expect(copyField(weight, 5e-324)).toBe('5e-324')
    expect(copyField(weight, -0)).toBe('-0')
    expect(copyField(created, 1_700_000_000)).toBe('2023-11-14T22:13:20.000Z')
    expect(copyField(tableSpec('oauth_codes').columns[9]!, 1)).toBe('t')
  })
})
