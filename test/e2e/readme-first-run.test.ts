// The README's "First run" block, run as written (bash, curl, jq) against a server started on
// a new embedded database: every call answers as the README implies, and the item lands in the
// category the block creates.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { HOOK_TIMEOUT_MS } from '../support/database'
import { freePort } from '../support/ports'
import { waitForLine } from '../support/process'

const root = path.join(import.meta.dir, '../..')
const tools = ['bash', 'curl', 'jq'].filter((t) => !Bun.which(t))
if (tools.length > 0 && process.env.CI === 'true') throw new Error(`CI=true requires ${tools.join(', ')} on the PATH: the README's first run must run in CI`)

/** The ```sh block of the README's Quick start that signs in and adds the first item. */
function firstRunBlock(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)].map((m) => m[1]!)
  const block = blocks.find((b) => b.includes('/api/auth/setup'))
  if (!block) throw new Error('README.md has no ```sh block with /api/auth/setup')
  return block
}

describe.if(tools.length === 0)("the README's first run, as written", () => {
  const port = freePort()
  let dir: string
  let server: ReturnType<typeof Bun.spawn>

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'gearbox-readme-first-run-'))
    server = Bun.spawn([process.execPath, 'src/server.ts'], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: '', GEARBOX_DATA_DIR: path.join(dir, 'data'), PORT: String(port) },
      stdout: 'pipe',
      stderr: 'inherit',
    })
    await waitForLine(server.stdout as ReadableStream<Uint8Array>, /listening on/)
  }, HOOK_TIMEOUT_MS)

  afterAll(async () => {
    server?.kill('SIGTERM')
    await server?.exited
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('every call succeeds; the categories are listed, one is created, and the item is in it', () => {
    // Each response body on its own line (stdout), each HTTP status on stderr; the port is this server's.
    const script = `set -euo pipefail
curl() { command curl -w '\\n%{stderr}%{http_code}\\n' "$@"; }
${firstRunBlock().replaceAll('localhost:3000', `localhost:${port}`)}`
    const run = Bun.spawnSync(['bash', '-c', script], { cwd: dir })
    expect(run.exitCode).toBe(0)
    const statuses = run.stderr.toString().trim().split('\n')
    // setup, login, API key, list categories, create one, item, setup, its items, the setup read back
    expect(statuses).toEqual(['201', '200', '201', '200', '201', '201', '201', '200', '200'])
    const bodies = run.stdout
      .toString()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const [, , categories, category, item, , , setup] = bodies
    expect(categories.map((c: { id: number; name: string }) => [c.id, c.name])).toEqual([[1, 'Uncategorized']])
    expect(category).toMatchObject({ id: 2, name: 'Shelter', icon: 'tent' })
    expect(item).toMatchObject({ id: 1, name: 'Tent', categoryId: 2 })
    expect(setup.items.map((i: { name: string; categoryName: string }) => [i.name, i.categoryName])).toEqual([['Tent', 'Shelter']])
    expect(setup.totals).toMatchObject({ baseWeightGrams: 1200, totalWeightGrams: 1200, totalPriceCents: 35000 })
  }, 60_000)
})
