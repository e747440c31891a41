import { afterAll, describe, expect, test } from 'bun:test'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { Kysely } from 'kysely'
import { createPGliteDatabase, pgliteOptions } from '../../src/db/database'
import { migrateToLatest } from '../../src/db/migrator'
import type { DB } from '../../src/db/types'
import { createServerDatabase, serverUrl } from '../support/database'
import { migrationNames, schemaFingerprint } from '../support/schema'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')
const last = migrationNames.at(-1)!

/** Runs a package.json script the way a user does; DATABASE_URL is only what `env` says. */
function run(script: string, env: Record<string, string>) {
  // Without NODE_ENV=test (set by bun test) kysely-ctl's logger is not silenced.
  const { NODE_ENV, TEST, ...parent } = process.env
  const child = Bun.spawn([process.execPath, 'run', script], {
    cwd: root,
    env: { ...parent, DATABASE_URL: '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]).then(
    // Under CI=true kysely-ctl's logger prints plain tags ("[log] [`✓`] name"); compare without them.
    ([exitCode, stdout, stderr]) => ({ exitCode, stdout: stdout.replace(/^\[(info|log|success)\] /gm, '').replaceAll('`', ''), stderr }),
  )
}

async function appliedMigrations(db: Kysely<any>): Promise<string[]> {
  const rows = await db.selectFrom('kysely_migration').select('name').orderBy('name').execute()
  return rows.map((r) => r.name)
}

/** The schema `migrateToLatest` gives on a database like `open()` returns, to compare against. */
async function referenceFingerprint(open: () => Promise<{ db: Kysely<DB>; close(): Promise<void> }>) {
  const { db, close } = await open()
  try {
    await migrateToLatest(db)
    return await schemaFingerprint(db)
  } finally {
    await close()
  }
}

describe('migration commands on the embedded default (GEARBOX_DATA_DIR)', () => {
  test('migrate:latest with no DATABASE_URL creates the schema in <GEARBOX_DATA_DIR>/db', async () => {
    const dataDir = tempDir('cli')
    const result = await run('migrate:latest', { GEARBOX_DATA_DIR: dataDir })
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`Ran ${migrationNames.length} migrations`)

    const db = createPGliteDatabase(new PGlite(path.join(dataDir, 'db'), pgliteOptions))
    try {
      expect(await appliedMigrations(db)).toEqual(migrationNames)
      expect(await db.selectFrom('categories').select(['id', 'name', 'icon']).execute()).toEqual([{ id: 1, name: 'Uncategorized', icon: 'package' }])
      const expected = await referenceFingerprint(async () => {
        const memory = createPGliteDatabase(new PGlite(pgliteOptions))
        return { db: memory, close: () => memory.destroy() }
      })
      expect(await schemaFingerprint(db)).toEqual(expected)
    } finally {
      await db.destroy()
    }
  }, 120_000)

  test('a bad variable stops the command with one line naming it', async () => {
    const result = await run('migrate:list', { DATABASE_URL: 'mysql://db/gearbox' })
    expect(result.exitCode).toBe(1)
    // Other stderr lines are bun's own: the script line and "exited with code 1".
    const ours = result.stderr.split('\n').filter((l) => l && !l.startsWith('$ ') && !l.startsWith('error: '))
    expect(ours).toEqual(['Invalid configuration: DATABASE_URL must start with postgres:// or postgresql://'])
  }, 60_000)
})

describe.if(!!serverUrl)('migration commands on a real server (DATABASE_URL)', () => {
  const opened: { drop(): Promise<void> }[] = []
  afterAll(() => Promise.all(opened.map((d) => d.drop())))
  async function emptyServerDatabase() {
    const server = await createServerDatabase()
    opened.push(server)
    return server
  }

  test('migrate:latest on an empty database produces the schema; down goes one step; list shows it pending', async () => {
    const { url, db } = await emptyServerDatabase()
    const latest = await run('migrate:latest', { DATABASE_URL: url })
    expect(latest.stderr).not.toMatch(/error/i)
    expect(latest.exitCode).toBe(0)
    expect(await appliedMigrations(db)).toEqual(migrationNames)
    expect(await schemaFingerprint(db)).toEqual(
      await referenceFingerprint(async () => {
        const other = await createServerDatabase()
        return { db: other.db, close: other.drop }
      }),
    )

    const down = await run('migrate:down', { DATABASE_URL: url })
    expect(down.exitCode).toBe(0)
    expect(down.stdout).toContain('Undone 1 migration')
    expect(await appliedMigrations(db)).toEqual(migrationNames.slice(0, -1))

    const list = await run('migrate:list', { DATABASE_URL: url })
    expect(list.exitCode).toBe(0)
    for (const name of migrationNames.slice(0, -1)) expect(list.stdout).toContain(`[✓] ${name}`)
    expect(list.stdout).toContain(`[ ] ${last}`)
  }, 120_000)

  test('two migrate:latest started at once apply each migration exactly once', async () => {
    const { url, db } = await emptyServerDatabase()
    const results = await Promise.all([run('migrate:latest', { DATABASE_URL: url }), run('migrate:latest', { DATABASE_URL: url })])
    for (const r of results) {
      expect(r.stderr).not.toMatch(/error/i)
      expect(r.exitCode).toBe(0)
    }
    // The advisory lock makes the second wait for the first and then find nothing to do.
    const outputs = results.map((r) => r.stdout)
    expect(outputs.filter((o) => o.includes(`Ran ${migrationNames.length} migrations`))).toHaveLength(1)
    expect(outputs.filter((o) => o.includes('no new migrations found'))).toHaveLength(1)
    expect(await appliedMigrations(db)).toEqual(migrationNames)
    expect(await db.selectFrom('categories').select(['id', 'name']).execute()).toEqual([{ id: 1, name: 'Uncategorized' }])
  }, 120_000)
})
