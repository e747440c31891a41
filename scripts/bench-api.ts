/**
 * GearBox's HTTP API against a bare peer (scripts/bench/baseline-server.ts: Bun.serve and the
 * driver alone, same SQL, same JSON) on the same database, in one run, driven by wrk at the
 * same concurrency. Prints req/s, p50/p99 latency and GearBox/peer per request kind.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx bun scripts/bench-api.ts
 *   npx bun scripts/bench-api.ts --embedded          # PGlite data directory, peer: bare PGlite
 *
 * Options: --rounds N (3), --seconds S per measurement (5), --connections C (20). --bun-serve
 * also measures GearBox's app on Bun.serve (scripts/bench/gearbox-on-bun-serve.ts): what the
 * HTTP layer costs.
 * Needs wrk (Debian: apt-get install wrk). On a server the database is created and dropped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { helpOnRequest } from './bench/help'

helpOnRequest(import.meta.path)

const { values: opts } = parseArgs({
  options: {
    embedded: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '20' },
    'bun-serve': { type: 'boolean', default: false },
  },
})
const rounds = Number(opts.rounds)
const root = join(import.meta.dir, '..')
const work = mkdtempSync(join(tmpdir(), 'gearbox-bench-api-'))
// Removed however the script ends: the exits below, an error, or the end of the run.
process.on('exit', () => rmSync(work, { recursive: true, force: true }))

if (!Bun.which('wrk')) {
  console.error('bench-api: wrk is not installed (Debian: apt-get install wrk)')
  process.exit(2)
}

// --- the database: a fresh one on the server, or a fresh embedded data directory
let databaseEnv: Record<string, string>
let peerEnv: Record<string, string>
let dropDatabase = async () => {}
if (opts.embedded) {
  databaseEnv = { GEARBOX_DATA_DIR: join(work, 'data') }
  peerEnv = { PGLITE_DIR: join(work, 'data', 'db') }
} else {
  const admin = process.env.BENCH_DATABASE_URL
  if (!admin) {
    console.error('bench-api: set BENCH_DATABASE_URL (an admin URL), or pass --embedded')
    process.exit(2)
  }
  const name = `gearbox_bench_api_${process.pid}`
  const sql = postgres(admin, { max: 1, onnotice: () => {} })
  await sql.unsafe(`create database ${name}`)
  const url = new URL(admin)
  url.pathname = `/${name}`
  databaseEnv = { DATABASE_URL: url.toString() }
  peerEnv = { DATABASE_URL: url.toString() }
  dropDatabase = async () => {
    await sql.unsafe(`drop database if exists ${name} with (force)`)
    await sql.end()
  }
}

let nextPort = 20_000 + (process.pid % 10_000)
interface Server {
  url: string
  stop(): Promise<void>
}

type Who = 'gearbox' | 'bun-serve' | 'peer'
const entries: Record<Who, string> = {
  gearbox: 'src/server.ts',
  'bun-serve': 'scripts/bench/gearbox-on-bun-serve.ts',
  peer: 'scripts/bench/baseline-server.ts',
}
const measured: Who[] = opts['bun-serve'] ? ['gearbox', 'bun-serve', 'peer'] : ['gearbox', 'peer']

async function start(kind: Who): Promise<Server> {
  const port = nextPort++
  const entry = entries[kind]
  const env = { ...process.env, ...(kind === 'peer' ? peerEnv : databaseEnv), PORT: String(port) }
  const child = Bun.spawn([process.execPath, entry], { cwd: root, env, stdout: 'ignore', stderr: 'inherit' })
  const url = `http://127.0.0.1:${port}`
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await Bun.sleep(100)) {
    if (child.exitCode !== null) throw new Error(`${kind} exited with ${child.exitCode}`)
    const ok = await fetch(`${url}/api/items`).then(
      (r) => r.status === 401,
      () => false,
    )
    if (ok) {
      return {
        url,
        async stop() {
          child.kill('SIGTERM')
          await child.exited
        },
      }
    }
  }
  throw new Error(`${kind} did not start within 60 s`)
}

// --- seed through GearBox's own API: the owner, an API key, 500 items, a setup of 100
async function call(url: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers)
  if (init.json !== undefined) headers.set('content-type', 'application/json')
  const res = await fetch(url + path, { ...init, headers, body: init.json === undefined ? init.body : JSON.stringify(init.json) })
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`)
  return res
}
/** A response's JSON, as GearBox documents it. */
const body = async (res: Promise<Response>): Promise<any> => (await res).json()

const gearbox = await start('gearbox')
const owner = { username: 'bench', password: 'a long bench passphrase' }
await call(gearbox.url, '/api/auth/setup', { method: 'POST', json: owner })
const cookie = (await call(gearbox.url, '/api/auth/login', { method: 'POST', json: owner })).headers.get('set-cookie')!.split(';')[0]!
const key: string = (await body(call(gearbox.url, '/api/api-keys', { method: 'POST', json: { name: 'bench' }, headers: { cookie } }))).key
const auth = { authorization: `Bearer ${key}` }
const categoryIds: number[] = [1]
for (const name of ['Shelter', 'Sleep', 'Kitchen', 'Clothing']) {
  categoryIds.push((await body(call(gearbox.url, '/api/categories', { method: 'POST', json: { name }, headers: auth }))).id)
}
for (let batch = 0; batch < 500; batch += 50) {
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      call(gearbox.url, '/api/items', {
        method: 'POST',
        headers: auth,
        json: {
          name: `Item ${batch + i}`,
          weightGrams: 10 + ((batch + i) % 900) + 0.5,
          priceCents: 100 * (batch + i),
          categoryId: categoryIds[(batch + i) % categoryIds.length],
          notes: 'Seeded for the benchmark',
          quantity: 1 + ((batch + i) % 3),
        },
      }),
    ),
  )
}
const setup = await body(call(gearbox.url, '/api/setups', { method: 'POST', json: { name: 'Bench setup' }, headers: auth }))
const classes = ['base', 'worn', 'consumable']
await call(gearbox.url, `/api/setups/${setup.id}/items`, {
  method: 'PUT',
  headers: auth,
  json: { items: Array.from({ length: 100 }, (_, i) => ({ itemId: i + 1, classification: classes[i % 3] })) },
})

const reads = [
  { name: 'GET /api/items/1', path: '/api/items/1' },
  { name: 'GET /api/items (500)', path: '/api/items' },
  { name: `GET /api/setups/${setup.id} (100 items)`, path: `/api/setups/${setup.id}` },
  { name: 'GET /api/categories', path: '/api/categories' },
]
const writeBody = { name: 'Bench write', weightGrams: 250, priceCents: 1999, categoryId: 2 }
const kinds = [...reads, { name: 'POST /api/items', path: '/api/items', body: writeBody }]
// Every round of reads before the first write: the writes add thousands of items, and the list must stay at 500.
const phases = [reads, kinds.slice(reads.length)]

// The peer must answer with GearBox's JSON, byte for byte once parsed, or the comparison is void.
const answers = new Map<string, unknown>()
for (const r of reads) answers.set(r.path, await body(call(gearbox.url, r.path, { headers: auth })))

const postScript = join(work, 'post.lua')
writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = '${JSON.stringify(writeBody)}'\nwrk.headers["content-type"] = "application/json"\n`)

interface Sample {
  rps: number
  p50: number
  p99: number
}

/** wrk's "Requests/sec" and its latency percentiles (ms). Any non-2xx answer voids the run. */
async function drive(url: string, kind: (typeof kinds)[number]): Promise<Sample> {
  const args = ['wrk', '-t2', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', '-H', `authorization: Bearer ${key}`]
  if ('body' in kind) args.push('-s', postScript)
  const proc = Bun.spawn([...args, url + kind.path], { stdout: 'pipe', stderr: 'inherit' })
  const out = await new Response(proc.stdout).text()
  await proc.exited
  if (/Non-2xx/.test(out)) throw new Error(`${kind.name} at ${url}: non-2xx answers\n${out}`)
  const ms = (label: string) => {
    const m = out.match(new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`))!
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's']
  }
  return { rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)![1]), p50: ms('50'), p99: ms('99') }
}

const results = new Map<string, Record<Who, Sample[]>>(kinds.map((k) => [k.name, { gearbox: [], 'bun-serve': [], peer: [] }]))
/** Every server but GearBox itself must answer each read with GearBox's JSON. */
async function checkAnswers(who: Who, server: Server) {
  if (who === 'gearbox') return
  for (const r of reads) {
    const got = await body(call(server.url, r.path, { headers: auth }))
    if (!Bun.deepEquals(got, answers.get(r.path))) throw new Error(`${who}'s ${r.path} differs from GearBox's`)
  }
}

try {
  if (opts.embedded) {
    // One process may open a PGlite directory: they take turns.
    await gearbox.stop()
    for (const phase of phases) {
      for (let round = 0; round < rounds; round++) {
        for (const who of measured) {
          const server = await start(who)
          if (round === 0 && phase === reads) await checkAnswers(who, server)
          for (const kind of phase) results.get(kind.name)![who].push(await drive(server.url, kind))
          await server.stop()
        }
        console.error(`round ${round + 1}/${rounds} done`)
      }
    }
  } else {
    const servers: Partial<Record<Who, Server>> = { gearbox }
    for (const who of measured.slice(1)) {
      servers[who] = await start(who)
      await checkAnswers(who, servers[who])
    }
    for (const phase of phases) {
      for (let round = 0; round < rounds; round++) {
        for (const kind of phase) {
          for (const who of measured) results.get(kind.name)![who].push(await drive(servers[who]!.url, kind))
        }
        console.error(`round ${round + 1}/${rounds} done`)
      }
    }
    for (const server of Object.values(servers)) await server.stop()
  }
} finally {
  await dropDatabase()
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number, digits = 0) => n.toFixed(digits)
const names: Record<Who, string> = { gearbox: 'GearBox', 'bun-serve': 'GearBox on Bun.serve', peer: opts.embedded ? 'bare PGlite' : 'bare postgres.js' }
console.log(`\n${opts.embedded ? 'Embedded PGlite' : 'PostgreSQL server'}; wrk -c${opts.connections}, ${opts.seconds} s each, median of ${rounds} rounds\n`)
// Per server: req/s and p50 / p99 ms; then each GearBox column's ratio to the peer.
const others = measured.filter((who) => who !== 'peer')
console.log(
  `| request | ${measured.map((who) => `${names[who]} req/s | p50 / p99 ms`).join(' | ')} | ${others.map((who) => `${names[who]} / peer`).join(' | ')} |`,
)
console.log(`| --- |${' --- | --- |'.repeat(measured.length)}${' --- |'.repeat(others.length)}`)
for (const [name, samples] of results) {
  const rps = (who: Who) => median(samples[who].map((s) => s.rps))
  const cells = measured.map(
    (who) => `${fmt(rps(who))} | ${fmt(median(samples[who].map((s) => s.p50)), 2)} / ${fmt(median(samples[who].map((s) => s.p99)), 2)}`,
  )
  console.log(`| ${name} | ${cells.join(' | ')} | ${others.map((who) => fmt(rps(who) / rps('peer'), 2)).join(' | ')} |`)
}
