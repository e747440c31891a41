import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../support/app'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
// The only /api routes a stranger may call: they are how one gets credentials.
const PUBLIC = new Set(['POST /api/auth/setup', 'POST /api/auth/login'])

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
    for (const route of ['GET /api/auth/me', 'POST /api/auth/logout', 'POST /api/api-keys', 'GET /api/items', 'DELETE /api/setups/1', 'POST /api/images']) {
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

  test('nothing was changed by those requests', async () => {
    for (const [method, path] of protectedRoutes()) await t.app.request(path, { method })
    expect(await t.db.selectFrom('categories').select('name').execute()).toEqual([{ name: 'Uncategorized' }])
    expect(await t.db.selectFrom('api_keys').select('name').execute()).toEqual([{ name: 'tests' }])
  })
})
