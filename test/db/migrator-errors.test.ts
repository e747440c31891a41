import { afterAll, expect, test } from 'bun:test'
import { migrateToLatest } from '../../src/db/migrator'
import { unreachableDatabase } from '../support/database'

const db = unreachableDatabase()
afterAll(() => db.destroy())

test('a migration run that cannot connect says so with its cause, in one line', async () => {
  const error = await migrateToLatest(db).then(
    () => undefined,
    (e: unknown) => e as Error,
  )
  // Was "Migration  failed: database unavailable": a double space, and no cause.
  expect(error?.message).toMatch(/^migrating failed: database unavailable \(.*ECONNREFUSED.*\)$/)
  expect(error?.message).not.toContain('\n')
}, 30_000)
