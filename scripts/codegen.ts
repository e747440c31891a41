// Writes src/db/types.ts from the migrated schema of a throwaway in-memory PGlite,
// so no server is needed. `--check` fails (exit 1) when the committed file is stale.
import { PGlite } from '@electric-sql/pglite'
import { generate, PostgresDialect } from 'kysely-codegen'
import path from 'node:path'
import { createPGliteDatabase, pgliteOptions } from '../src/db/database'
import { migrateToLatest } from '../src/db/migrator'

const outFile = path.join(import.meta.dir, '../src/db/types.ts')
const check = process.argv.includes('--check')

const db = createPGliteDatabase(new PGlite(pgliteOptions))
try {
  await migrateToLatest(db)
  await generate({
    db,
    dialect: new PostgresDialect(),
    outFile,
    excludePattern: 'kysely_migration*',
    verify: check,
  })
} catch (error) {
  console.error(check ? `${path.relative(process.cwd(), outFile)} is stale: run \`bun run codegen\` and commit it.` : error)
  process.exitCode = 1
} finally {
  await db.destroy()
}
