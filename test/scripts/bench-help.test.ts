// Every benchmark script answers --help with its usage and runs nothing: bench-start read
// --help as its count of rounds (a table of NaN), bench-api threw on the unknown option, and
// bench-test-reset started its full run.
import { expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import path from 'node:path'

const scripts = path.join(import.meta.dir, '../../scripts')

test.each(readdirSync(scripts).filter((name) => /^bench-.*\.ts$/.test(name)))('%s --help prints its usage and exits 0', (name) => {
  const run = Bun.spawnSync([process.execPath, path.join(scripts, name), '--help'], { env: { ...process.env, BENCH_DATABASE_URL: '' }, timeout: 30_000 })
  const usage = run.stdout.toString()
  expect([run.exitCode, run.stderr.toString()]).toEqual([0, ''])
  // The script's own opening comment, which names it or what it measures.
  expect(usage.length).toBeGreaterThan(80)
  expect(usage).not.toMatch(/NaN|round \d/)
})
