import { describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')
const typesFile = path.join(root, 'src/db/types.ts')

async function codegen(...args: string[]) {
  const child = Bun.spawn([process.execPath, 'scripts/codegen.ts', ...args], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  const [exitCode, stderr] = await Promise.all([child.exited, new Response(child.stderr).text()])
  return { exitCode, stderr }
}

// Each run migrates its own in-memory PGlite (seconds each); the real types file is only read.
describe('generated types (scripts/codegen.ts)', () => {
  test('src/db/types.ts matches the migrations: `codegen --check` exits 0', async () => {
    const { exitCode, stderr } = await codegen('--check')
    expect(stderr).toBe('')
    expect(exitCode).toBe(0)
  }, 60_000)

  test('a fresh generation is byte-for-byte the committed file', async () => {
    const out = path.join(tempDir('codegen'), 'fresh.ts')
    expect(await codegen('--out', out)).toEqual({ exitCode: 0, stderr: '' })
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(typesFile, 'utf8'))
  }, 60_000)

  test('`--check` fails on a stale file and says what to do', async () => {
    const stale = path.join(tempDir('codegen'), 'stale.ts')
    const current = readFileSync(typesFile, 'utf8')
    const edited = current.replace(/^\s*quantity: Generated<number>;\n/m, '')
    expect(edited).not.toBe(current) // the column we drop really was there
    writeFileSync(stale, edited)
    const { exitCode, stderr } = await codegen('--check', '--out', stale)
    expect(exitCode).toBe(1)
    expect(stderr).toContain('stale.ts is stale: run `bun run codegen` and commit it.')
    expect(readFileSync(stale, 'utf8')).toBe(edited) // checking never rewrites the file
  }, 60_000)
})
