/**
 * How long the embedded default takes to start: `bun src/server.ts` with an empty
 * GEARBOX_DATA_DIR, and again on the directory it left, until /health/ready answers 200,
 * against a bare `PGlite.create()` (a process that opens the same kind of directory and
 * runs one query) in the same run. Prints each median and GearBox/peer.
 *
 *   npx bun scripts/bench-start.ts [runs=5]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { helpOnRequest } from './bench/help'

helpOnRequest(import.meta.path)

const runs = Number(process.argv[2] ?? 5)
const root = join(import.meta.dir, '..')
const peer = `import { PGlite } from '@electric-sql/pglite'
const db = await PGlite.create(process.argv[1])
await db.query('select 1')
console.log('ready')
await db.close()`

async function gearbox(dataDir: string, port: number): Promise<number> {
  const start = performance.now()
  const child = Bun.spawn([process.execPath, 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, GEARBOX_DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: '' },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`gearbox exited with ${child.exitCode}`)
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.status === 200,
        () => false,
      )
      if (ready) return performance.now() - start
      await Bun.sleep(5)
    }
  } finally {
    child.kill('SIGTERM')
    await child.exited
  }
}

async function bare(dataDir: string): Promise<number> {
  const start = performance.now()
  const child = Bun.spawn([process.execPath, '-e', peer, join(dataDir, 'db')], { cwd: root, stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  let seen = ''
  while (!seen.includes('ready')) {
    const { done, value } = await reader.read()
    if (done) throw new Error('bare PGlite ended before it was ready')
    seen += new TextDecoder().decode(value)
  }
  const elapsed = performance.now() - start
  await child.exited
  return elapsed
}

const samples = { gearboxEmpty: [] as number[], bareEmpty: [] as number[], gearboxExisting: [] as number[], bareExisting: [] as number[] }
const port = 21_000 + (process.pid % 10_000)
for (let run = 0; run < runs; run++) {
  const dirs = [mkdtempSync(join(tmpdir(), 'gearbox-start-')), mkdtempSync(join(tmpdir(), 'gearbox-start-'))]
  try {
    const [g, b] = dirs as [string, string]
    // Who goes first alternates between runs: GearBox on even runs, bare PGlite on odd ones.
    const inTurn = async (first: () => Promise<void>, second: () => Promise<void>) => {
      for (const step of run % 2 === 0 ? [first, second] : [second, first]) await step()
    }
    // A first start, each on an empty directory of its own.
    await inTurn(
      async () => void samples.gearboxEmpty.push(await gearbox(g, port)),
      async () => void samples.bareEmpty.push(await bare(b)),
    )
    // A restart: both open the directory GearBox made.
    await inTurn(
      async () => void samples.gearboxExisting.push(await gearbox(g, port)),
      async () => void samples.bareExisting.push(await bare(g)),
    )
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
  console.error(`run ${run + 1}/${runs} done`)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
console.log(`\nEmbedded start to /health/ready, median of ${runs}\n`)
console.log('| data directory | GearBox | bare PGlite.create() | ratio |')
console.log('| --- | --- | --- | --- |')
for (const [label, g, b] of [
  ['empty (first start)', samples.gearboxEmpty, samples.bareEmpty],
  ['existing (restart)', samples.gearboxExisting, samples.bareExisting],
] as const) {
  console.log(`| ${label} | ${s(median(g))} | ${s(median(b))} | ${(median(g) / median(b)).toFixed(2)} |`)
}
