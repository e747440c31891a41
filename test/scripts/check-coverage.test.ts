import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from '../support/temp-dir'

const root = path.join(import.meta.dir, '../..')

/** An lcov report with one file per folder, `hit` of 100 lines covered in each. */
function report(hit: Record<string, number>): string {
  const file = path.join(tempDir('lcov'), 'lcov.info')
  const records = Object.entries(hit).map(([folder, n]) => `TN:\nSF:${folder}x.ts\nFNF:0\nFNH:0\nLF:100\nLH:${n}\nend_of_record`)
  writeFileSync(file, `${records.join('\n')}\n`)
  return file
}

async function check(file: string) {
  const run = Bun.spawn([process.execPath, 'scripts/check-coverage.ts', file], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  const [out, err, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited])
  return { out, err, code }
}

describe('scripts/check-coverage.ts', () => {
  test('passes when every folder is at 90 % or more, and prints the figures', async () => {
    const { out, code } = await check(report({ 'src/db/': 90, 'src/repositories/': 100, 'src/import/': 95, 'src/routes/': 10 }))
    expect(code).toBe(0)
    expect(out).toContain('src/db/                90.0%')
    expect(out).toContain('95.0%  (285/300 lines')
  })

  test('fails when one folder is under the floor, even if the three together are above it', async () => {
    const { err, code } = await check(report({ 'src/db/': 89, 'src/repositories/': 100, 'src/import/': 100 }))
    expect(code).toBe(1)
    expect(err).toContain('line coverage under the floor of 90%: src/db/ 89.0%')
  })

  test('fails when a folder is missing from the report (a partial run)', async () => {
    const { err, code } = await check(report({ 'src/db/': 100, 'src/import/': 100 }))
    expect(code).toBe(1)
    expect(err).toContain('no file under src/repositories/')
  })
})
