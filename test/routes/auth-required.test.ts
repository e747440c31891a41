import { describe, expect, test } from 'bun:test'
import { sql } from 'kysely'
import { useTestApp } from '../support/app'
import { tableNames } from '../support/schema'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
// The only /api routes a stranger may call: they are how one gets credentials, or (logout)
// how a browser drops a cookie that may no longer name a session.
const PUBLIC = new Set(['POST /api/auth/setup', 'POST /api/auth/login', 'POST /api/auth/logout'])

describe('every /api route needs credentials', () => {
  const t = useTestApp()

  /** Every documented /api route as [METHOD, path with each {param} set to 1]; read from the app, so new routes are covered. */
  function protectedRoutes(): [string, string][] {
    const doc = t.app.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 'GearBox', version: 'test' } })
    const routes: [string, string][] = []
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      if (!path.startsWith('/api/')) continue
      for (const method of METHODS) {
        if (item?.[method] && !PUBLIC.has(`${method.toUpperCase()} ${path}`)) routes.push([method.toUpperCase(), path.replace(/\{\w+\}/g, '1')])
      }
    }
    return routes
  }

  test('the document lists the routes, so the checks below cannot pass on an empty list', () => {
    const routes = protectedRoutes().map(([m, p]) => `${m} ${p}`)
    expect(routes.length).toBeGreaterThanOrEqual(30)
    for (const route of ['GET /api/auth/me', 'POST /api/api-keys', 'GET /api/items', 'DELETE /api/setups/1', 'POST /api/images']) {
      expect(routes).toContain(route)
    }
  })

  const cases: [string, Record<string, string>][] = [
    ['no credentials', {}],
    ['an unknown API key', { authorization: 'Bearer gbx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['an unknown session cookie', { cookie: 'gearbox_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }],
  ]
  test.each(cases)('with %s every route answers 401', async (_, headers) => {
    const failures: string[] = []
    for (const [method, path] of protectedRoutes()) {
      // A valid-looking JSON body, so a 400 could only come from skipping the auth check.
      const init: RequestInit = { method, headers: { ...headers, 'content-type': 'application/json' } }
      if (method !== 'GET' && method !== 'DELETE') init.body = '{}'
      const res = await t.app.request(path, init)
      const body = (await res.json()) as { error?: { code?: string } }
      if (res.status !== 401 || body.error?.code !== 'unauthorized') failures.push(`${method} ${path} -> ${res.status}`)
    }
    expect(failures).toEqual([])
  })

  test('Authorization: Bearer takes exactly one token (RFC 6750 section 2.1): a valid key with more after it is no key, on /api and /mcp', async () => {
    const key = t.auth.authorization!.replace(/^Bearer /, '')
    const status = async (authorization: string) => {
      const api = await t.app.request('/api/items', { headers: { authorization } })
      const mcp = await t.app.request('/mcp', {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
      })
      return [api.status, mcp.status, mcp.headers.get('www-authenticate')?.includes('error="invalid_token"') ?? false]
    }
    for (const header of [`Bearer ${key} trailing junk`, `Bearer ${key} ${key}`, `Bearer ${key},x`, 'Bearer', 'Bearer ']) {
      expect([header, ...(await status(header))]).toEqual([header, 401, 401, true])
    }
    // The scheme in any case, and one or more spaces before the token, are the same key.
    for (const header of [`bearer ${key}`, `BEARER   ${key}`]) expect([header, ...(await status(header))]).toEqual([header, 200, 200, false])
  })

  test('a stranger changes nothing: not even what exists under the ids the requests name', async () => {
    // Something real behind every {param} = 1, so a request that skipped the check would change it.
    for (const [path, body] of [
      ['/api/categories', { name: 'Shelter' }],
      ['/api/items', { name: 'Tent', categoryId: 2 }],
      ['/api/threads', { name: 'Stove', categoryId: 2 }],
      ['/api/threads/1/candidates', { name: 'Pocket rocket' }],
      ['/api/setups', { name: 'Weekend' }],
    ] as const) {
      expect((await t.call('POST', path, body)).status).toBe(201)
    }
    expect((await t.call('PUT', '/api/setups/1/items', { items: [{ itemId: 1, classification: 'base' }] })).status).toBe(200)
    const everything = async () => {
      const state: Record<string, unknown> = {}
      for (const table of await tableNames(t.db)) state[table] = (await sql`select * from ${sql.table(table)} order by 1`.execute(t.db)).rows
      return state
    }
    const before = await everything()
    for (const [method, path] of protectedRoutes()) {
      const init: RequestInit = { method, headers: { 'content-type': 'application/json' } }
      if (method !== 'GET' && method !== 'DELETE') init.body = JSON.stringify({ name: 'changed', value: 'changed' })
      expect((await t.app.request(path, init)).status).toBe(401)
    }
    expect(await everything()).toEqual(before)
  })
})
