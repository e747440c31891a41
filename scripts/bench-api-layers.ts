/**
 * Where the CPU time of `GET /api/items/1` goes, layer by layer: the profile behind
 * scripts/bench-api.ts's ratio for one item (issue 13). Prints CPU microseconds per request
 * (user + system, this process or the server's, so a noisy machine's waiting does not count)
 * and each as a multiple of the peer: the driver row in this process, over HTTP the driver's
 * work in one Hono route on Bun.serve (bench-api's peer is the same work on bare Bun.serve).
 * GearBox runs as it does by default: request log on, Prometheus metrics off.
 *
 * In this process, one request at a time after a warm-up, on one database:
 *   driver    postgres.js prepared statements: the API-key lookup and the item, then JSON (the peer's work)
 *   services  GearBox's AuthService.authenticateApiKey and ItemService.get (Kysely, repositories), then JSON
 *   app       GearBox's Hono app (app.request): routing, middleware, validation, no request log
 *   app+log   the same with the request log (pino, written synchronously to /dev/null)
 * Over HTTP, wrk -c20 against a server process (CPU from /proc/<pid>/stat), each on node:http
 * (src/http-server.ts, what GearBox serves with) and on Bun.serve:
 *   static    one Hono route answering fixed JSON: the HTTP layer alone
 *   driver    one Hono route doing the driver row's work (scripts/bench/http-layer-server.ts),
 *             and on node:http also a bare handler without Hono
 *   GearBox   the whole server (src/server.ts; on Bun.serve: scripts/bench/gearbox-on-bun-serve.ts)
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx bun scripts/bench-api-layers.ts
 *
 * Options: --rounds N (3; each row's median), --requests N in process per round (5000),
 * --seconds S per HTTP measurement (4). Needs wrk and Linux's /proc. Creates and drops its database.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pino from 'pino'
import postgres from 'postgres'
import { createApp } from '../src/app'
import { loadConfig } from '../src/config'
import { createDatabase } from '../src/db/database'
import { migrateToLatest } from '../src/db/migrator'
import { queryObserver } from '../src/observability'
import { createServices } from '../src/services'
import { driverWork } from './bench/driver-work'
import { helpOnRequest } from './bench/help'

helpOnRequest(import.meta.path)

const { values: opts } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, requests: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '4' } },
})
const rounds = Number(opts.rounds)
const requests = Number(opts.requests)
const admin = process.env.BENCH_DATABASE_URL
if (!admin) {
  console.error('bench-api-layers: set BENCH_DATABASE_URL (an admin URL)')
  process.exit(2)
}
if (!Bun.which('wrk')) {
  console.error('bench-api-layers: wrk is not installed (Debian: apt-get install wrk)')
  process.exit(2)
}
const root = join(import.meta.dir, '..')
const name = `gearbox_bench_layers_${process.pid}`
const adminSql = postgres(admin, { max: 1, onnotice: () => {} })
await adminSql.unsafe(`create database ${name}`)
const url = new URL(admin)
url.pathname = `/${name}`
const databaseUrl = url.toString()

/** Median of `xs`. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const samples = new Map<string, number[]>()
const record = (row: string, value: number) => samples.set(row, [...(samples.get(row) ?? []), value])

try {
  // --- GearBox in this process, as src/server.ts builds it by default (metrics off); the
  // request log goes to /dev/null, one synchronous write per line
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl })
  const log = pino({ level: 'info', base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: '/dev/null', sync: true }))
  const db = createDatabase(config.database, { log: queryObserver(log, config.slowQueryMs) })
  await migrateToLatest(db)
  const services = createServices(db, { uploadDir: config.uploadDir, loginThrottle: config.loginThrottle, gearboxUrl: config.gearboxUrl })
  const app = createApp({ services })
  const logged = createApp({ services, log })

  const owner = JSON.stringify({ username: 'bench', password: 'a long bench passphrase' })
  const json = { 'content-type': 'application/json' }
  const ok = async (res: Response | Promise<Response>) => {
    const r = await res
    if (!r.ok) throw new Error(`seeding: ${r.status} ${await r.text()}`)
    return r
  }
  await ok(app.request('/api/auth/setup', { method: 'POST', body: owner, headers: json }))
  const cookie = (await ok(app.request('/api/auth/login', { method: 'POST', body: owner, headers: json }))).headers.get('set-cookie')!.split(';')[0]!
  const created = (await (await ok(app.request('/api/api-keys', { method: 'POST', body: '{"name":"bench"}', headers: { ...json, cookie } }))).json()) as {
    key: string
  }
  const key = created.key
  const auth = { authorization: `Bearer ${key}` }
  const item = JSON.stringify({ name: 'Tent', weightGrams: 1200.5, priceCents: 34900, categoryId: 1, notes: 'Seeded for the benchmark' })
  await ok(app.request('/api/items', { method: 'POST', body: item, headers: { ...json, ...auth } }))

  const driver = driverWork(databaseUrl)
  const inProcess: [string, () => Promise<unknown>][] = [
    [
      'driver',
      async () => {
        const answer = await driver.answer(auth.authorization, 1)
        if (!answer) throw new Error('the key was refused')
        return JSON.stringify(answer)
      },
    ],
    [
      'services',
      async () => {
        if (!(await services.auth.authenticateApiKey(key))) throw new Error('the key was refused')
        return JSON.stringify(await services.items.get(1))
      },
    ],
    ['app', async () => (await ok(app.request('/api/items/1', { headers: auth }))).text()],
    ['app+log', async () => (await ok(logged.request('/api/items/1', { headers: auth }))).text()],
  ]
  for (let round = 0; round < rounds; round++) {
    for (const [row, run] of inProcess) {
      for (let i = 0; i < requests / 5; i++) await run()
      const before = process.cpuUsage()
      for (let i = 0; i < requests; i++) await run()
      const used = process.cpuUsage(before)
      record(`in process: ${row}`, (used.user + used.system) / requests)
    }
    console.error(`in process: round ${round + 1}/${rounds} done`)
  }
  await driver.end()
  await db.destroy()

  // --- over HTTP: each server in turn, wrk after a one-second warm-up, its CPU from /proc
  const servers: [string, string, Record<string, string>][] = [
    ['static, node:http', 'scripts/bench/http-layer-server.ts', { MODE: 'node', HANDLER: 'static' }],
    ['static, Bun.serve', 'scripts/bench/http-layer-server.ts', { MODE: 'bun', HANDLER: 'static' }],
    ['driver, node:http', 'scripts/bench/http-layer-server.ts', { MODE: 'node', HANDLER: 'driver' }],
    ['driver, bare node:http (no Hono)', 'scripts/bench/http-layer-server.ts', { MODE: 'bare', HANDLER: 'driver' }],
    ['driver, Bun.serve', 'scripts/bench/http-layer-server.ts', { MODE: 'bun', HANDLER: 'driver' }],
    ['GearBox, node:http', 'src/server.ts', {}],
    ['GearBox, Bun.serve', 'scripts/bench/gearbox-on-bun-serve.ts', {}],
  ]
  const port = 20_000 + (process.pid % 10_000)
  const target = `http://127.0.0.1:${port}/api/items/1`
  const wrk = async (seconds: number) => {
    const proc = Bun.spawn(['wrk', '-t2', '-c20', `-d${seconds}s`, '-H', `authorization: Bearer ${key}`, target], { stdout: 'pipe', stderr: 'inherit' })
    const out = await new Response(proc.stdout).text()
    await proc.exited
    if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers from ${target}\n${out}`)
    return Number(out.match(/Requests\/sec:\s+([\d.]+)/)![1])
  }
  // utime + stime, in clock ticks (1/100 s on Linux)
  const cpuTicks = (pid: number) => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12])
  }
  for (let round = 0; round < rounds; round++) {
    for (const [row, entry, env] of servers) {
      const child = Bun.spawn([process.execPath, entry], {
        cwd: root,
        env: { ...process.env, ...env, DATABASE_URL: databaseUrl, PORT: String(port), LOG_LEVEL: 'info', METRICS: 'false' },
        stdout: 'ignore',
        stderr: 'inherit',
      })
      try {
        for (let up = false, deadline = Date.now() + 30_000; !up; await Bun.sleep(100)) {
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${row}: the server did not start`)
          up = await fetch(target, { headers: auth }).then(
            (r) => r.ok,
            () => false,
          )
        }
        await wrk(1)
        const before = cpuTicks(child.pid)
        const seconds = Number(opts.seconds)
        const rps = await wrk(seconds)
        record(`over HTTP: ${row}`, ((cpuTicks(child.pid) - before) * 10_000) / (rps * seconds))
      } finally {
        child.kill('SIGTERM')
        await child.exited
      }
    }
    console.error(`over HTTP: round ${round + 1}/${rounds} done`)
  }
} finally {
  await adminSql.unsafe(`drop database if exists ${name} with (force)`)
  await adminSql.end()
}

console.log(`\nGET /api/items/1, CPU microseconds per request (user + system), median of ${rounds} rounds`)
console.log('x peer: against the driver alone in this process, or over HTTP the driver in one Hono route on Bun.serve\n')
console.log('| layer | µs per request | x peer | all rounds |')
console.log('| --- | --- | --- | --- |')
for (const [row, values] of samples) {
  const peer = median(samples.get(row.startsWith('in process') ? 'in process: driver' : 'over HTTP: driver, Bun.serve')!)
  console.log(`| ${row} | ${median(values).toFixed(0)} | ${(median(values) / peer).toFixed(2)} | ${values.map((v) => v.toFixed(0)).join(', ')} |`)
}
