import { describe, expect, test } from 'bun:test'
import { bodyOf, useTestApp } from '../support/app'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

describe('GET /openapi.json', () => {
  const t = useTestApp()

  test('describes every route the app serves, and nothing it does not', async () => {
    const res = await t.app.request('/openapi.json')
    expect(res.status).toBe(200)
    const doc = await bodyOf(res)
    expect(doc.openapi).toBe('3.1.0')
    const documented = new Set<string>()
    for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of METHODS) if (item[method]) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)
    }
    // Every handler the app routes (middleware aside) must be in the document.
    const served = new Set(
      t.app.routes
        .filter((r) => METHODS.includes(r.method.toLowerCase() as never) && !r.path.endsWith('*') && r.path !== '/openapi.json')
        .map((r) => `${r.method} ${r.path.replace(/\/$/, '') || '/'}`),
    )
    expect([...documented].sort()).toEqual([...served].sort())
    // The contract's endpoints, as a floor the check cannot pass without.
    for (const route of [
      'GET /health/live',
      'GET /health/ready',
      'POST /api/auth/setup',
      'POST /api/auth/login',
      'POST /api/auth/logout',
      'GET /api/auth/me',
      'GET /api/api-keys',
      'POST /api/api-keys',
      'DELETE /api/api-keys/:id',
      'GET /api/categories',
      'POST /api/categories',
      'PATCH /api/categories/:id',
      'DELETE /api/categories/:id',
      'GET /api/items',
      'GET /api/items/:id',
      'POST /api/items',
      'PATCH /api/items/:id',
      'DELETE /api/items/:id',
      'GET /api/threads',
      'POST /api/threads',
      'GET /api/threads/:id',
      'PATCH /api/threads/:id',
      'DELETE /api/threads/:id',
      'POST /api/threads/:id/candidates',
      'PATCH /api/threads/:id/candidates/:candidateId',
      'DELETE /api/threads/:id/candidates/:candidateId',
      'PUT /api/threads/:id/candidates/order',
      'POST /api/threads/:id/resolve',
      'POST /api/threads/:id/unresolve',
      'GET /api/setups',
      'POST /api/setups',
      'GET /api/setups/:id',
      'PATCH /api/setups/:id',
      'DELETE /api/setups/:id',
      'PUT /api/setups/:id/items',
      'PATCH /api/setups/:id/items/:itemId',
      'GET /api/settings',
      'PUT /api/settings/:key',
      'POST /api/images',
      'GET /uploads/:filename',
    ]) {
      expect(documented).toContain(route)
    }
  })

  test('query parameters are documented', async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    expect(doc.paths['/api/items'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['query:categoryId', 'query:q', 'query:limit', 'query:cursor'])
  })

  test('every list endpoint documents limit, cursor and the Link header of the next page', async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    for (const path of ['/api/categories', '/api/items', '/api/threads', '/api/setups', '/api/api-keys']) {
      const list = doc.paths[path].get
      const limit = list.parameters.find((p: { name: string }) => p.name === 'limit')
      expect({ path, in: limit?.in, max: limit?.schema.maximum }).toEqual({ path, in: 'query', max: 1000 })
      expect({ path, cursor: list.parameters.some((p: { name: string; in: string }) => p.name === 'cursor' && p.in === 'query') }).toEqual({ path, cursor: true })
      expect({ path, link: list.responses['200'].headers?.Link?.description }).toEqual({ path, link: expect.stringContaining('rel="next"') })
    }
  })

  test('write bodies are strict: the document forbids unknown keys', async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    const body = doc.paths['/api/items'].post.requestBody
    expect(body.required).toBe(true)
    const schema = body.content['application/json'].schema
    const resolved = schema.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema
    expect(resolved.additionalProperties).toBe(false)
  })
})
