// shared helpers for breaker scripts (copied into /work/main as scratch-breaker-harness.ts)
import postgres from 'postgres'
import { sql } from 'kysely'
import { createDatabase } from './src/db/database'
import { migrateToLatest } from './src/db/migrator'

export const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres'
export const uncaught: unknown[] = []
process.on('uncaughtException', (e) => { uncaught.push(e); console.log('UNCAUGHT EXCEPTION', e) })
process.on('unhandledRejection', (e) => { uncaught.push(e); console.log('UNHANDLED REJECTION', e) })

export async function newDb(migrate = true) {
  const name = `breaker_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(ADMIN, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = `postgres://postgres@127.0.0.1:5432/${name}`
  const config = { kind: 'postgres' as const, url, maxConnections: 5, connectTimeoutSeconds: 10, statementTimeoutMs: 60_000, preparedStatements: true }
  if (migrate) { const db = createDatabase(config); await migrateToLatest(db); await db.destroy() }
  return {
    name, url, config, admin,
    async kill(pid: number) { await admin`select pg_terminate_backend(${pid})` },
    async killAll() { return (await admin`select pg_terminate_backend(pid) as t from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`).length },
    async drop() { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end() },
  }
}
export const within = <T>(ms: number, p: Promise<T>) => Promise.race([p.then((v) => ({ ok: v } as const), (e) => ({ err: e } as const)), Bun.sleep(ms).then(() => 'TIMEOUT' as const)])
export const pidOf = async (db: any) => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]!.pid
export const desc = (r: any) => r === 'TIMEOUT' ? 'TIMEOUT' : 'ok' in r ? `ok` : `err ${r.err?.constructor?.name}: ${r.err?.message} ${r.err?.cause?.code ?? r.err?.code ?? ''}`
export async function healthy(db: any) { const r = await within(1500, sql`select 1 as x`.execute(db)); return desc(r) }
