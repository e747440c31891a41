// The server's log is written asynchronously; a line logged just before process.exit() (the
// 'stopped' of a SIGTERM, the steps before a start-up failure) must still reach stdout, even
// when the runtime's worker threads are all busy (PGlite closing its files, a loaded machine).
import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const observability = path.join(import.meta.dir, '../../src/observability.ts')

test('a line logged right before process.exit() is written, though every worker thread is busy', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-exit-log-'))
  const fifo = path.join(dir, 'fifo')
  try {
    expect(Bun.spawnSync(['mkfifo', fifo]).exitCode).toBe(0)
    // Opening a FIFO that has no writer blocks the worker thread doing it: 64 of them occupy the pool.
    const script = `
      import { open } from 'node:fs/promises'
      import { createLogger } from ${JSON.stringify(observability)}
      const log = createLogger('info')
      log.info('started')
      await Bun.sleep(50)
      for (let i = 0; i < 64; i++) void open(${JSON.stringify(fifo)}, 'r')
      await Bun.sleep(50)
      log.info('stopped')
      process.exit(0)
    `
    const child = Bun.spawn(['bun', '-e', script], { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).msg),
    ).toEqual(['started', 'stopped'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 30_000)
