// scripts/bench-load.ts drives a server process it starts; the server logs a line per request
// to the pipe the script holds. A run long enough to log far more than a pipe holds must end.
import { expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { tempDir } from '../support/temp-dir'

test('bench:load on the embedded database runs to its integrity check, however much the server logs', async () => {
  // A TMPDIR of its own: what the script leaves there can be seen, and goes with the test even if the script is killed.
  const tmp = tempDir('bench-load-tmp')
  const script = Bun.spawn([process.execPath, path.join(import.meta.dir, '../../scripts/bench-load.ts'), '12', '4'], {
    env: { ...process.env, BENCH_DATABASE_URL: '', TMPDIR: tmp },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const ended = await Promise.race([script.exited, Bun.sleep(90_000).then(() => 'still running after 90 s')])
  script.kill('SIGKILL')
  const output = await new Response(script.stdout).text()
  expect(ended, output).toBe(0)
  expect(output).toMatch(/embedded \(PGlite\): (\d+) requests in 12 s/)
  // More request lines than a pipe holds (64 KiB; a line is about 150 bytes). 12 s, not fewer:
  // on a busy 2-core machine 3 s gave as few as 407 requests, too few to fill the pipe, and 8 s
  // 481 (the 500 asked for leaves room for longer lines).
  expect(Number(/(\d+) requests in 12 s/.exec(output)![1])).toBeGreaterThan(500)
  expect(output).toContain('integrity: ok')
  // Its data directory is gone.
  expect(readdirSync(tmp)).toEqual([])
}, 120_000)
