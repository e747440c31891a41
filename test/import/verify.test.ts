import { beforeEach, describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { sourceChecksum } from '../../src/import/checksum'
import { copyChunks } from '../../src/import/copy-binary'
import { type ColumnSpec, tableSpec } from '../../src/import/legacy-schema'
import { emptyTarget } from '../../src/import/load'
import { type PlannedTable, planImport } from '../../src/import/plan'
import { openLegacyFile, scanLegacyFile } from '../../src/import/scan'
import type { Target, TargetSession } from '../../src/import/target'
import { loadAndVerify, StreamingLoad } from '../../src/import/transfer'
import { sourceChecksums, VerificationError, verify } from '../../src/import/verify'
import { openImportTarget, realisticRows, runImport, targetState, useImportFixture, writeLegacyFile } from '../support/legacy-sqlite'

const fx = useImportFixture()

beforeEach(() => writeLegacyFile(fx.file, realisticRows()))

async function plan(): Promise<PlannedTable[]> {
  const db = openLegacyFile(fx.file)
  const scan = await scanLegacyFile(db)
  db.close()
  return planImport(scan, false)
}

/** A broken encoder: COPY data with 0.30000000000000004 in it gets 0.3 instead. */
function roundingEncoder(data: Uint8Array): Uint8Array {
  const [exact, rounded] = [Buffer.alloc(8), Buffer.alloc(8)]
  exact.writeDoubleBE(0.30000000000000004)
  rounded.writeDoubleBE(0.3)
  const copy = Buffer.from(data)
  const at = copy.indexOf(exact)
  if (at >= 0) rounded.copy(copy, at)
  return copy
}

/** `target` with some of its sessions' methods replaced by `change`. */
const withSession = (target: Target, change: (session: TargetSession) => Partial<TargetSession>): Target => ({
  ...target,
  transaction: (work) => target.transaction((session) => work({ ...session, ...change(session) })),
})

const noProgress = { start() {}, advance() {}, finish() {}, step() {} }
const differing = async (t: Target) => (await t.transaction(async (s) => verify(s, await plan()))).filter((r) => !r.ok).map((r) => r.table)

describe('verification', () => {
  test('matches after an import and catches any later difference, naming the table', async () => {
    await runImport(fx.file, fx.target)
    const t = fx.target.target()
    expect(await differing(t)).toEqual([])

    // pgloader's float4 rounding, a trimmed text, a shifted instant, a changed JSON element, a lost row:
    const changes = [
      ['items', sql`update items set weight_grams = 0.3 where id = 1`],
      ['categories', sql`update categories set name = trim(name) where id = 7`],
      ['thread_candidates', sql`update thread_candidates set updated_at = updated_at + interval '1 millisecond' where id = 8`],
      ['oauth_clients', sql`update oauth_clients set redirect_uris = '["https://claude.ai/cb", "http://localhost:8080/cb?x=y"]' where id = 1`],
      ['oauth_codes', sql`update oauth_codes set used = false`],
      ['settings', sql`delete from settings where key = 'currency'`],
      // A sequence behind the highest id: the next item would get id 10, which SQLite issued.
      ['items', sql`select setval(pg_get_serial_sequence('items', 'id'), 9)`],
    ] as const
    for (const [table, change] of changes) {
      await change.execute(fx.target.db)
      expect([table, await differing(t)]).toEqual([table, [table]])
      // Back to the imported state, so each change is seen alone.
      expect((await runImport(fx.file, fx.target, { replace: true })).status).toBe('imported')
    }
  })

  test('a value changed on the way in fails the import, names the table and writes nothing', async () => {
    const before = await targetState(fx.target.db)
    const t = fx.target.target()
    const faulty = withSession(t, (s) => ({
      copyIn: (table, columns, chunks, onChunk) =>
        s.copyIn(
          table,
          columns,
          [...chunks].map((c) => ({ ...c, data: roundingEncoder(c.data) })),
          onChunk,
        ),
    }))
    const error = await faulty.transaction(async (s) => loadAndVerify(s, await plan(), { replace: false }, noProgress)).catch((e) => e)
    expect(error).toBeInstanceOf(VerificationError)
    expect(error.message).toBe('verification failed: items differs from the source; nothing was written')
    expect(error.results.filter((r: { ok: boolean }) => !r.ok).map((r: { table: string }) => r.table)).toEqual(['items'])
    expect(await targetState(fx.target.db)).toEqual(before)
  })

  test('on a server, where each table is copied while the next is read, a value changed on the way in fails the import the same way', async () => {
    const server = await openImportTarget('postgres')
    try {
      const before = await targetState(server.db)
      const t = server.target()
      expect(t.scanDuringLoad).toBe(true)
      const faulty = withSession(t, (s) => ({
        openCopy: async (table, columns) => {
          const copy = await s.openCopy(table, columns)
          return { ...copy, write: (data) => copy.write(roundingEncoder(data)) }
        },
      }))
      const outcome = await runImport(fx.file, { ...server, target: () => faulty })
      expect(outcome.status).toBe('verification-failed')
      expect(outcome.verification.filter((r) => !r.ok).map((r) => r.table)).toEqual(['items'])
      expect(await targetState(server.db)).toEqual(before)
    } finally {
      await server.close()
    }
  })
})

describe('the streamed copy', () => {
  test('hashes each table as the scan passes it: the same source checksums as the whole plan gives', async () => {
    const server = await openImportTarget('postgres')
    try {
      const rollback = new Error('rollback')
      const expected = sourceChecksums(await plan())
      const db = openLegacyFile(fx.file)
      const outcome = await server
        .target()
        .transaction(async (session) => {
          const load = new StreamingLoad(session, noProgress, await emptyTarget(session, false))
          await scanLegacyFile(db, load)
          const { checksums } = await load.copied()
          throw Object.assign(rollback, { source: checksums.source, target: await checksums.target })
        })
        .catch((error) => error)
        .finally(() => db.close())
      expect(outcome).toBe(rollback)
      expect(outcome.source).toEqual(expected)
      expect(outcome.target).toEqual(expected)
    } finally {
      await server.close()
    }
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

  test('the source checksum is the md5 of the canonical text, however long a value and whatever its characters', () => {
    const md5 = (text: string) => new Bun.CryptoHasher('md5').update(text).digest('hex')
    // Longer than the buffer the text is written into, in characters of 1 to 4 UTF-8 bytes.
    const long = 'aü€😀'.repeat(300_000)
    const clients = [
      [1, 'c|1', null, '["https://x.example/cb","é😀",""]', 1_700_000_000],
      [2, long, 'Ünïcödé', '[]', 0],
    ]
    expect(sourceChecksum(tableSpec('oauth_clients'), clients)).toEqual({
      rows: 2,
      md5: md5('1|3:c|1|N|[3]20:https://x.example/cb,6:é😀,0:|1700000000\n' + `2|${Buffer.byteLength(long)}:${long}|11:Ünïcödé|[0]|0`),
    })
    const items = [[-7, 'x', -0.5, null, 1, null, null, null, null, 2, 5, 6]]
    expect(sourceChecksum(tableSpec('items'), items).md5).toBe(md5('-7|1:x|bfe0000000000000|N|1|N|N|N|N|2|5|6'))
    const codes = [[1, 'h', 'c|1', 1, 'https://r', 'ch', 'S256', null, 10, 1, 11]]
    expect(sourceChecksum(tableSpec('oauth_codes'), codes).md5).toBe(md5('1|1:h|3:c|1|1|9:https://r|2:ch|4:S256|N|10|true|11'))
  })

  test('COPY data is PostgreSQL binary format: exact doubles, microseconds since 2000, UTF-8 text', () => {
    const column = (name: string, kind: ColumnSpec['kind']): ColumnSpec => ({ name, kind, nullable: true })
    const columns = [column('t', { type: 'time' }), column('w', { type: 'real' }), column('s', { type: 'text' }), column('b', { type: 'bool' })]
    const [chunk] = [
      ...copyChunks(columns, [
        [946_684_801, 5e-324, 'a\tü', 1],
        [null, -0, '', 0],
      ]),
    ]
    const data = Buffer.from(chunk!.data)
    const header = Buffer.from('PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0', 'latin1')
    expect(data.subarray(0, 19).equals(header)).toBe(true)
    const row1 = Buffer.concat([
      Buffer.from([0, 4]),
      Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]), // 1 s after 2000-01-01 = 1,000,000 µs
      Buffer.from([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]), // 5e-324, the smallest subnormal
      Buffer.from([0, 0, 0, 4, 0x61, 0x09, 0xc3, 0xbc]),
      Buffer.from([0, 0, 0, 1, 1]),
    ])
    const row2 = Buffer.concat([
      Buffer.from([0, 4, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0]), // -0 keeps its sign bit
      Buffer.from([0, 0, 0, 0]), // '' is not NULL
      Buffer.from([0, 0, 0, 1, 0]),
    ])
    expect(data.subarray(19).equals(Buffer.concat([row1, row2, Buffer.from([0xff, 0xff])]))).toBe(true)
    expect([...copyChunks(columns, [])].map((c) => c.data.length)).toEqual([21])
  })
})
