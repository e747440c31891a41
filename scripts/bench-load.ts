// Mixed read/write HTTP load at a fixed concurrency for a fixed time, on the embedded database
// and on a PostgreSQL server, then a full integrity check of what the load acknowledged.
//   npm run bench:load -- [seconds=20] [concurrency=8]
// The server run needs BENCH_DATABASE_URL (or TEST_DATABASE_URL): an admin URL on which a fresh
// database is created and dropped; without it only the embedded database is measured.
// Each engine gets a real server process (`bun src/server.ts`) on a free loopback port.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { type Kysely, sql } from 'kysely'
import { createPGliteDatabase, pgliteOptions } from '../src/db/database'
import type { DB } from '../src/db/types'
import { createServerDatabase } from '../test/support/database'
import { waitForLine } from '../test/support/process'
import { helpOnRequest } from './bench/help'

helpOnRequest(import.meta.path)

const seconds = Number(process.argv[2] ?? 20)
const concurrency = Number(process.argv[3] ?? 8)
const adminUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL
const root = path.join(import.meta.dir, '..')

/** What one worker was told succeeded: the state its own items and setups must be in. */
interface Acknowledged {
  items: Map<number, { name: string; quantity: number; weightGrams: number }>
  deleted: Set<number>
  setups: Map<number, number[]>
}

type Op = 'list items' | 'get item' | 'list categories' | 'get setup' | 'create item' | 'update item' | 'delete item' | 'set setup items'
/** Operation mix, in parts: about 60% reads, 40% writes. */
const MIX: [Op, number][] = [
  ['list items', 20],
  ['get item', 20],
  ['list categories', 10],
  ['get setup', 10],
  ['create item', 20],
  ['update item', 10],
  ['delete item', 5],
  ['set setup items', 5],
]

function pick(): Op {
  let n = Math.random() * MIX.reduce((sum, [, w]) => sum + w, 0)
  for (const [op, weight] of MIX) {
    n -= weight
    if (n < 0) return op
  }
  return MIX[0]![0]
}

async function startServer(env: Record<string, string>) {
  const listener = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = listener.port
  listener.stop(true)
  const proc = Bun.spawn([process.execPath, 'src/server.ts'], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), ...env },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  await waitForLine(proc.stdout, /listening on/)
  // Keep reading the request log (and drop it): a pipe nobody reads fills up, and then the
  // server blocks on its next log line.
  void proc.stdout.pipeTo(new WritableStream()).catch(() => {})
  return { base: `http://127.0.0.1:${port}`, proc }
}

/** Owner, session and an API key; returns the Authorization header. */
async function signUp(base: string): Promise<Record<string, string>> {
  const owner = JSON.stringify({ username: 'bench', password: 'a long bench passphrase' })
  const json = { 'content-type': 'application/json', origin: base }
  await fetch(`${base}/api/auth/setup`, { method: 'POST', headers: json, body: owner })
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: json, body: owner })
  const cookie = /gearbox_session=[^;]+/.exec(login.headers.get('set-cookie') ?? '')?.[0] ?? ''
  const res = await fetch(`${base}/api/api-keys`, { method: 'POST', headers: { ...json, cookie }, body: JSON.stringify({ name: 'bench' }) })
  return { authorization: `Bearer ${((await res.json()) as { key: string }).key}` }
}

async function runLoad(base: string, auth: Record<string, string>) {
  const latencies: number[] = []
  const failures = new Map<string, number>()
  const acks: Acknowledged[] = []
  const call = async (method: string, url: string, body?: unknown) => {
    const started = performance.now()
    const res = await fetch(`${base}${url}`, {
      method,
      headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    latencies.push(performance.now() - started)
    if (!res.ok) {
      const what = `${method} ${url.split('?')[0]!.replace(/\d+/g, ':id')} ${res.status}`
      failures.set(what, (failures.get(what) ?? 0) + 1)
    }
    return { ok: res.ok, body: text ? JSON.parse(text) : undefined }
  }
  const until = performance.now() + seconds * 1000
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const ack: Acknowledged = { items: new Map(), deleted: new Set(), setups: new Map() }
      acks.push(ack)
      const setup = await call('POST', '/api/setups', { name: `setup ${worker}` })
      if (setup.ok) ack.setups.set(setup.body.id, [])
      let serial = 0
      const mine = () => [...ack.items.keys()]
      const any = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]
      while (performance.now() < until) {
        const op = pick()
        const id = any(mine())
        switch (op) {
          case 'list items':
            await call('GET', '/api/items?limit=50')
            break
          case 'get item':
            if (id !== undefined) await call('GET', `/api/items/${id}`)
            break
          case 'list categories':
            await call('GET', '/api/categories')
            break
          case 'get setup':
            for (const setupId of ack.setups.keys()) await call('GET', `/api/setups/${setupId}`)
            break
          case 'create item': {
            const item = { name: `w${worker} item ${serial++}`, quantity: 1, weightGrams: Math.round(Math.random() * 5000) }
            const res = await call('POST', '/api/items', { ...item, categoryId: 1 })
            if (res.ok) ack.items.set(res.body.id, item)
            break
          }
          case 'update item':
            if (id !== undefined) {
              const patch = { quantity: 1 + Math.floor(Math.random() * 9), weightGrams: Math.round(Math.random() * 5000) }
              if ((await call('PATCH', `/api/items/${id}`, patch)).ok) ack.items.set(id, { ...ack.items.get(id)!, ...patch })
            }
            break
          case 'delete item':
            if (id !== undefined && (await call('DELETE', `/api/items/${id}`)).ok) {
              ack.items.delete(id)
              ack.deleted.add(id)
              for (const [setupId, ids] of ack.setups)
                ack.setups.set(
                  setupId,
                  ids.filter((x) => x !== id),
                )
            }
            break
          case 'set setup items':
            for (const setupId of ack.setups.keys()) {
              const ids = mine()
                .filter(() => Math.random() < 0.3)
                .slice(0, 20)
              const res = await call('PUT', `/api/setups/${setupId}/items`, { items: ids.map((itemId) => ({ itemId, classification: 'base' })) })
              if (res.ok) ack.setups.set(setupId, ids)
            }
            break
          default:
            op satisfies never
        }
      }
    }),
  )
  return { latencies, failures, acks }
}

/** Every acknowledged write is there as acknowledged; nothing refers to a row that is gone. Returns the problems. */
async function checkIntegrity(db: Kysely<DB>, acks: Acknowledged[]): Promise<string[]> {
  const problems: string[] = []
  const items = new Map((await db.selectFrom('items').select(['id', 'name', 'quantity', 'weight_grams']).execute()).map((r) => [r.id, r]))
  const setupItems = await db.selectFrom('setup_items').select(['setup_id', 'item_id']).execute()
  for (const ack of acks) {
    for (const [id, want] of ack.items) {
      const got = items.get(id)
      if (!got) problems.push(`item ${id} was acknowledged but is missing`)
      else if (got.name !== want.name || got.quantity !== want.quantity || got.weight_grams !== want.weightGrams) {
        problems.push(`item ${id} is ${JSON.stringify(got)}, acknowledged ${JSON.stringify(want)}`)
      }
    }
    for (const id of ack.deleted) if (items.has(id)) problems.push(`item ${id} was acknowledged deleted but is still there`)
    for (const [setupId, want] of ack.setups) {
      const got = setupItems.filter((r) => r.setup_id === setupId).map((r) => r.item_id)
      if (got.toSorted().join() !== want.toSorted().join()) problems.push(`setup ${setupId} holds [${got}], acknowledged [${want}]`)
    }
  }
  const orphans = await sql<{ what: string; n: number }>`
    select 'setup_items without item' as what, count(*)::int as n from setup_items si left join items i on i.id = si.item_id where i.id is null
    union all select 'setup_items without setup', count(*)::int from setup_items si left join setups s on s.id = si.setup_id where s.id is null
    union all select 'items without category', count(*)::int from items i left join categories c on c.id = i.category_id where c.id is null
    union all select 'candidates without thread', count(*)::int from thread_candidates tc left join threads t on t.id = tc.thread_id where t.id is null
    union all select 'api_keys without user', count(*)::int from api_keys k left join users u on u.id = k.user_id where u.id is null
    union all select 'sessions without user', count(*)::int from sessions s left join users u on u.id = s.user_id where u.id is null`.execute(db)
  for (const { what, n } of orphans.rows) if (n > 0) problems.push(`${n} ${what}`)
  const expected = acks.reduce((sum, ack) => sum + ack.items.size, 0)
  if (items.size !== expected) problems.push(`${items.size} items in the database, ${expected} acknowledged and not deleted`)
  return problems
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0

async function bench(engine: string, start: () => Promise<{ env: Record<string, string>; open: () => Kysely<DB>; cleanup: () => Promise<void> }>) {
  const target = await start()
  try {
    const server = await startServer(target.env)
    let result: Awaited<ReturnType<typeof runLoad>>
    try {
      result = await runLoad(server.base, await signUp(server.base))
    } finally {
      server.proc.kill('SIGTERM')
      await server.proc.exited
    }
    const problems = await checkIntegrity(target.open(), result.acks)
    const sorted = result.latencies.toSorted((a, b) => a - b)
    const live = result.acks.reduce((sum, a) => sum + a.items.size, 0)
    const deleted = result.acks.reduce((sum, a) => sum + a.deleted.size, 0)
    console.log(
      `${engine}: ${sorted.length} requests in ${seconds} s at concurrency ${concurrency}: ${(sorted.length / seconds).toFixed(0)} req/s, ` +
        `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms`,
    )
    const failed = [...result.failures].map(([what, n]) => `${n} x ${what}`)
    console.log(`  failed requests: ${failed.length ? failed.join(', ') : 'none'}`)
    console.log(
      `  integrity: ${problems.length ? `FAILED\n    ${problems.slice(0, 20).join('\n    ')}` : `ok (${live} items exactly as last acknowledged, ${deleted} acknowledged deletions gone, every setup's items as last set, no orphan rows)`}`,
    )
    return problems.length === 0 && failed.length === 0
  } finally {
    await target.cleanup()
  }
}

let ok = await bench('embedded (PGlite)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearbox-bench-load-'))
  let db: Kysely<DB> | undefined
  return {
    env: { DATABASE_URL: '', GEARBOX_DATA_DIR: dir },
    // Opened only after the server has stopped: one process at a time may hold the data directory.
    open: () => (db = createPGliteDatabase(new PGlite(`${dir}/db`, pgliteOptions))),
    cleanup: async () => {
      await db?.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
if (adminUrl) {
  ok =
    (await bench('server (PostgreSQL)', async () => {
      const server = await createServerDatabase(adminUrl)
      return { env: { DATABASE_URL: server.url }, open: () => server.db, cleanup: () => server.drop() }
    })) && ok
} else {
  console.log('server (PostgreSQL): skipped; set BENCH_DATABASE_URL to an admin URL to measure it too')
}
process.exit(ok ? 0 : 1)
