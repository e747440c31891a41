import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { checkSchema } from '../../src/db/schema-check'
import { backend, useTestDatabase } from '../support/database'
import { runScript } from '../support/process'
import { migrationNames } from '../support/schema'

describe(`db:validate's schema check on ${backend}`, () => {
  const t = useTestDatabase()
  // The reset restores rows, not DDL: each drift is undone by the test that makes it.
  const drift = async (make: string, undo: string, expected: string[]) => {
    await sql.raw(make).execute(t.db)
    try {
      expect((await checkSchema(t.db)).differences).toEqual(expected)
    } finally {
      await sql.raw(undo).execute(t.db)
    }
    expect((await checkSchema(t.db)).differences).toEqual([])
  }

  test('a freshly migrated database has no differences and nothing pending', async () => {
    expect(await checkSchema(t.db)).toEqual({ comparedAt: migrationNames.at(-1), differences: [], pending: [] })
  }, 60_000)

  test('a hand-made ALTER TABLE: an added column, a changed type, a dropped default, a dropped NOT NULL', async () => {
    await drift('alter table items add column colour text', 'alter table items drop column colour', ['extra column items.colour: text, null'])
    await drift('alter table items alter column price_cents type bigint', 'alter table items alter column price_cents type integer', [
      'changed column items.price_cents: bigint, null; the migrations give integer, null',
    ])
    await drift(`alter table categories alter column icon drop default`, `alter table categories alter column icon set default 'package'`, [
      `changed column categories.icon: text, not null; the migrations give text, not null, default 'package'::text`,
    ])
    await drift('alter table items alter column name drop not null', 'alter table items alter column name set not null', [
      'changed column items.name: text, null; the migrations give text, not null',
    ])
  }, 60_000)

  test('a dropped or changed constraint, a dropped or added index, an extra table', async () => {
    await drift(
      'alter table items drop constraint items_price_cents_check',
      'alter table items add constraint items_price_cents_check check (price_cents >= 0)',
      ['missing constraint items_price_cents_check on items: CHECK ((price_cents >= 0))'],
    )
    await drift(
      'alter table items drop constraint items_quantity_check, add constraint items_quantity_check check (quantity >= 0)',
      'alter table items drop constraint items_quantity_check, add constraint items_quantity_check check (quantity >= 1)',
      ['changed constraint items_quantity_check on items: CHECK ((quantity >= 0)); the migrations give CHECK ((quantity >= 1))'],
    )
    await drift('drop index items_name_idx', 'create index items_name_idx on items (name)', [
      'missing index items_name_idx: CREATE INDEX items_name_idx ON public.items USING btree (name)',
    ])
    await drift('create index items_notes_idx on items (notes)', 'drop index items_notes_idx', [
      'extra index items_notes_idx: CREATE INDEX items_notes_idx ON public.items USING btree (notes)',
    ])
    await drift('create table scratch (x int)', 'drop table scratch', ['extra table scratch'])
  }, 60_000)

  test('the migration history: an unknown applied migration, a gap', async () => {
    await drift(
      `insert into kysely_migration (name, timestamp) values ('29991231000000_from_the_future', '2999-12-31T00:00:00.000Z')`,
      `delete from kysely_migration where name = '29991231000000_from_the_future'`,
      ['unknown applied migration 29991231000000_from_the_future (no file in migrations/)'],
    )
    const second = migrationNames[1]!
    await drift(
      `delete from kysely_migration where name = '${second}'`,
      `insert into kysely_migration (name, timestamp) values ('${second}', '2026-11-22T05:02:00.000Z')`,
      [`migration ${second} is not applied, but later ones are`],
    )
  }, 60_000)
})

describe('npm run db:validate', () => {
  test('exit 0 on a clean embedded database; exit 1 naming the drift', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gearbox-validate-'))
    try {
      const env = { GEARBOX_DATA_DIR: dataDir, DATABASE_URL: '' }
      expect((await runScript('migrate:latest', [], env)).exitCode).toBe(0)
      const clean = await runScript('db:validate', [], env)
      expect(clean.stdout).toBe(
        `checking the schema of the embedded database in ${dataDir}/db\nschema ok: as the migrations produce it up to ${migrationNames.at(-1)}\n`,
      )
      expect(clean.exitCode).toBe(0)

      const { PGlite } = await import('@electric-sql/pglite')
      const pglite = new PGlite(`${dataDir}/db`)
      await pglite.exec('alter table setup_items drop constraint setup_items_setup_id_item_id_key')
      await pglite.close()
      const drifted = await runScript('db:validate', [], env)
      expect(drifted.stdout).toContain('  missing constraint setup_items_setup_id_item_id_key on setup_items: UNIQUE (setup_id, item_id)\n')
      expect(drifted.stdout).toContain(`schema drift: 1 difference(s) from what the migrations produce up to ${migrationNames.at(-1)}\n`)
      expect(drifted.exitCode).toBe(1)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 120_000)
})
