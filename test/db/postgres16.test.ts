// The production target is PostgreSQL 16 (docker-compose.yml); CI's server is 15 and PGlite
// is 18. This runs the migration, schema and repository suites again, unchanged, on a
// PostgreSQL 16 server from npm (the run's own one when it already is, else a new one).
import { afterAll, beforeAll, expect, test } from 'bun:test'
import path from 'node:path'
import postgres from 'postgres'
import { HOOK_TIMEOUT_MS } from '../support/database'
import { type EmbeddedServer, startEmbeddedPostgres } from '../support/embedded-postgres'

const root = path.join(import.meta.dir, '../..')
const suites = ['test/db/migrations.test.ts', 'test/db/schema.test.ts', 'test/repositories']

let own: EmbeddedServer | undefined
let url: string

beforeAll(async () => {
  if (process.env.TEST_DATABASE_EMBEDDED === '1') url = process.env.TEST_DATABASE_URL!
  else url = (own = await startEmbeddedPostgres()).url
}, HOOK_TIMEOUT_MS)
afterAll(() => own?.stop(), HOOK_TIMEOUT_MS)

test('migrations, schema and repositories pass on PostgreSQL 16', async () => {
  const sql = postgres(url, { max: 1 })
  const [row] = await sql<{ server_version_num: string }[]>`show server_version_num`
  await sql.end()
  expect(Math.floor(Number(row?.server_version_num) / 10000)).toBe(16)

  const env: Record<string, string | undefined> = { ...process.env, TEST_DATABASE_URL: url, TEST_BACKEND: 'postgres' }
  const child = Bun.spawn(['bun', 'test', '--timeout', '60000', ...suites], { cwd: root, env, stdout: 'pipe', stderr: 'pipe' })
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()])
  const report = out + err
  expect(await child.exited, report).toBe(0)
  expect(report).toMatch(/\n\s*0 fail\n/)
  expect(Number(report.match(/\n\s*(\d+) pass\n/)?.[1])).toBeGreaterThan(40)
}, 300_000)
