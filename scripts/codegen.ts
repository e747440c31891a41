// Writes src/db/types.ts from the migrated schema of a throwaway in-memory PGlite,
// so no server is needed. `--check` fails (exit 1) when the file is stale; `--out <file>`
// writes or checks another file (the tests check a stale copy without touching the real one).

import path from 'node:path'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import { generate, PostgresDialect } from 'kysely-codegen'
import { createPGliteDatabase, pgliteOptions } from '../src/db/database'
import { migrateToLatest } from '../src/db/migrator'

const { values: args } = parseArgs({ options: { check: { type: 'boolean', default: false }, out: { type: 'string' } } })
const outFile = path.resolve(args.out ?? path.join(import.meta.dir, '../src/db/types.ts'))

const db = createPGliteDatabase(new PGlite(pgliteOptions))
try {
  await migrateToLatest(db)
  try {
    await generate({ db, dialect: new PostgresDialect(), outFile, excludePattern: 'kysely_migration*', verify: args.check })
  } catch (error) {
    if (!args.check) throw error
    console.error(`${path.relative(process.cwd(), outFile)} is stale: run \`bun run codegen\` and commit it.`)
    process.exitCode = 1
  }
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await db.destroy()
}
