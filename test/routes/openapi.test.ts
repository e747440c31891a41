import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { inspectRoutes } from 'hono/dev'
import { bodyOf, useTestApp } from '../support/app'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
// The document and the reference page describe the API; they are not part of it.
const isDocumentation = (path: string) => path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/')

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
    // Every handler the app routes (middleware aside) must be in the document; one for all
    // methods (`ALL`, as /mcp's 405) answers each of them.
    const served = new Set(
      inspectRoutes(t.app)
        .filter((r) => !r.isMiddleware)
        .filter((r) => (r.method === 'ALL' || METHODS.includes(r.method.toLowerCase() as never)) && !r.path.endsWith('*') && !isDocumentation(r.path))
        .flatMap((r) => (r.method === 'ALL' ? METHODS.map((m) => m.toUpperCase()) : [r.method]).map((m) => `${m} ${r.path.replace(/\/$/, '') || '/'}`)),
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
    expect(doc.paths['/api/items'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual([
      'query:categoryId',
      'query:q',
      'query:limit',
      'query:cursor',
    ])
  })

  test('every list endpoint documents limit, cursor and the Link header of the next page', async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    for (const path of ['/api/categories', '/api/items', '/api/threads', '/api/setups', '/api/api-keys']) {
      const list = doc.paths[path].get
      const limit = list.parameters.find((p: { name: string }) => p.name === 'limit')
      expect({ path, in: limit?.in, max: limit?.schema.maximum }).toEqual({ path, in: 'query', max: 1000 })
      expect({ path, cursor: list.parameters.some((p: { name: string; in: string }) => p.name === 'cursor' && p.in === 'query') }).toEqual({
        path,
        cursor: true,
      })
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

  test("passes `redocly lint` (the project's redocly.yaml) with no error and no warning", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gearbox-openapi-'))
    try {
      const file = path.join(dir, 'openapi.json')
      await Bun.write(file, await (await t.app.request('/openapi.json')).text())
      // Run from the project root so redocly.yaml applies; no telemetry, no update check, and no
      // compile cache (its bin/cli.js turns one on, kept in TMPDIR/node-compile-cache for good).
      const lint = Bun.spawn([process.execPath, 'node_modules/@redocly/cli/bin/cli.js', 'lint', file, '--format=json'], {
        cwd: path.join(import.meta.dir, '../..'),
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NODE_DISABLE_COMPILE_CACHE: '1' },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [out, err, code] = await Promise.all([new Response(lint.stdout).text(), new Response(lint.stderr).text(), lint.exited])
      const report = JSON.parse(out || '{}')
      expect({ problems: report.problems, code, err: code === 0 ? '' : err }).toEqual({ problems: [], code: 0, err: '' })
      expect(report.totals).toEqual({ errors: 0, warnings: 0, ignored: 0 })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('every operation has a 2xx answer, but those that only say the method is not allowed (405)', async () => {
    // redocly's operation-2xx-response, which redocly.yaml turns off for the 405-only operations of /mcp.
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    const without: string[] = []
    for (const [route, item] of Object.entries<Record<string, { responses: Record<string, unknown> }>>(doc.paths)) {
      for (const method of METHODS) {
        const codes = Object.keys(item[method]?.responses ?? { 200: {} })
        if (!codes.some((code) => code.startsWith('2'))) without.push(`${method.toUpperCase()} ${route}`)
      }
    }
    expect(without.filter((name) => !Object.keys(doc.paths[name.split(' ')[1]!][name.split(' ')[0]!.toLowerCase()].responses).includes('405'))).toEqual([])
    expect(without.sort()).toEqual(['DELETE /mcp', 'GET /mcp', 'PATCH /mcp', 'PUT /mcp'])
  })

  test('every operation has an operationId, and the ids are unique', async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    const ids = Object.values<Record<string, { operationId?: string }>>(doc.paths).flatMap((item) =>
      METHODS.flatMap((m) => (item[m] ? [item[m].operationId] : [])),
    )
    expect(ids.length).toBeGreaterThanOrEqual(40)
    expect(ids.filter((id) => !id || !/^[A-Za-z0-9]+$/.test(id))).toEqual([])
    expect(new Set(ids).size).toBe(ids.length)
    expect(doc.paths['/api/items/{id}'].get.operationId).toBe('getItemsById')
  })

  test("the document's security says exactly which operations a stranger may call", async () => {
    const doc = await bodyOf(await t.app.request('/openapi.json'))
    expect(doc.servers).toEqual([{ url: '/', description: 'This server' }])
    const publicByDocument: string[] = []
    const publicByServer: string[] = []
    for (const [route, item] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      for (const method of METHODS) {
        const operation = item[method]
        if (!operation) continue
        const name = `${method.toUpperCase()} ${route}`
        if ((operation.security ?? doc.security).length === 0) publicByDocument.push(name)
        // No credentials at all; a write gets an empty JSON body, so only authentication can refuse it.
        const init: RequestInit = { method: method.toUpperCase() }
        if (method !== 'get' && method !== 'delete') Object.assign(init, { body: '{}', headers: { 'content-type': 'application/json' } })
        const res = await t.app.request(route.replace(/\{\w+\}/g, '1'), init)
        if (res.status !== 401) publicByServer.push(name)
      }
    }
    expect(publicByDocument).toEqual(publicByServer)
    expect(publicByDocument).toEqual([
      'GET /health/live',
      'GET /health/ready',
      'POST /api/auth/setup',
      'POST /api/auth/login',
      'POST /api/auth/logout',
      'GET /uploads/{filename}',
      // OAuth's discovery and endpoints come before any token (RFC 8414, RFC 9728, RFC 7591, RFC 6749).
      'GET /.well-known/oauth-protected-resource/mcp',
      'GET /.well-known/oauth-protected-resource',
      'GET /.well-known/oauth-authorization-server',
      'POST /oauth/register',
      'GET /oauth/authorize',
      'POST /oauth/authorize',
      'POST /oauth/token',
      'POST /oauth/revoke',
    ])
  })
})
