import { describe, expect, test } from 'bun:test'
import { OpenAPIHono } from '@hono/zod-openapi'
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely'
import { z } from 'zod'
import { createApp } from '../../src/app'
import type { DB } from '../../src/db/types'
import { UnavailableError } from '../../src/errors'
import { createServices } from '../../src/services'
import { bodyOf, OWNER, useTestApp } from '../support/app'

// The document checked against what the server really does: each expectation comes from the app
// (its registered schemas, its answers to requests), not from a list kept beside the routes.

type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } }
type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }> }

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const
const FORM = 'application/x-www-form-urlencoded'
// Over every body limit of the app (JSON 1 MiB, OAuth 64 KiB, images 5 MiB and their form), under the HTTP server's 8 MiB.
const OVERSIZED = `{"name":"${'x'.repeat(6 * 1024 * 1024)}"}`
// Headers an answer may carry that a client acts on; each one an answer carries must be documented for its status.
const ACTIONABLE_HEADERS = ['retry-after', 'set-cookie', 'location', 'allow', 'www-authenticate']

/**
 * Requests each operation is sent, beside its path with every parameter 1: refusals (a foreign
 * Origin, a body too large, a wrong media type or Accept, no credentials) and the inputs the public
 * routes take, so that these reach the database too.
 */
function probes(cookie: string, apiKey: Record<string, string>): { what: string; headers: Record<string, string>; body?: string; query?: string }[] {
  const json = { 'content-type': 'application/json' }
  return [
    { what: 'a session cookie from a foreign Origin', headers: { cookie, origin: 'https://elsewhere.example', ...json }, body: '{}' },
    { what: 'a session cookie without Origin', headers: { cookie, ...json }, body: '{}' },
    { what: 'a body over every limit', headers: { ...apiKey, ...json }, body: OVERSIZED },
    { what: 'a text/plain body', headers: { ...apiKey, 'content-type': 'text/plain', accept: 'application/json, text/event-stream' }, body: '{}' },
    { what: 'an Accept without JSON', headers: { ...apiKey, ...json, accept: 'text/html' }, body: '{}' },
    { what: 'no credentials', headers: json, body: '{}' },
    { what: "the owner's credentials", headers: json, body: JSON.stringify(OWNER) },
    { what: 'a client registration', headers: json, body: JSON.stringify({ redirect_uris: ['http://127.0.0.1/callback'] }) },
    { what: 'OAuth parameters', headers: { 'content-type': FORM }, body: 'grant_type=refresh_token&refresh_token=r&client_id=c&token=t' },
    { what: 'an authorization request', headers: {}, query: '?client_id=c&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback' },
  ]
}

/** A database that never answers: every query is the UnavailableError of a server that is down. */
function unavailableDatabase(): Kysely<DB> {
  const down = async (): Promise<never> => {
    throw new UnavailableError('database unavailable: test')
  }
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createIntrospector: (db) => new PostgresIntrospector(db),
      createQueryCompiler: () => new PostgresQueryCompiler(),
      createDriver: () => ({
        init: async () => {},
        acquireConnection: down,
        beginTransaction: down,
        commitTransaction: down,
        rollbackTransaction: down,
        releaseConnection: async () => {},
        destroy: async () => {},
      }),
    },
  })
}

/**
 * What the document leaves out of `res`, the answer of `operation` to `what`: its status, a
 * header a client acts on, or its body's media type. None when the document says it all.
 */
function undocumented(operation: Operation, name: string, what: string, res: Response, hasBody: boolean): string[] {
  const documented = operation.responses[String(res.status)]
  if (!documented) return [`${name}: ${res.status} to ${what}`]
  const problems: string[] = []
  const headers = Object.keys(documented.headers ?? {}).map((h) => h.toLowerCase())
  for (const header of ACTIONABLE_HEADERS) {
    if (res.headers.has(header) && !headers.includes(header)) problems.push(`${name}: ${res.status} to ${what} without its ${header} header`)
  }
  const type = res.headers.get('content-type')?.split(';')[0]?.trim()
  if (hasBody && type && !Object.keys(documented.content ?? {}).includes(type)) problems.push(`${name}: ${res.status} to ${what} without its ${type} body`)
  return problems
}

/** A documented schema as a zod schema, its `#/components/schemas/X` references resolved. */
function documentedSchema(doc: Doc, schema: unknown): z.ZodType {
  const local = JSON.parse(JSON.stringify(schema).replaceAll('#/components/schemas/', '#/$defs/'))
  const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('#/components/schemas/', '#/$defs/'))
  return z.fromJSONSchema({ ...local, $defs: defs })
}

describe('GET /openapi.json against the app', () => {
  const t = useTestApp()
  const document = async (): Promise<Doc> => bodyOf(await t.app.request('/openapi.json'))

  test('no two different schemas share a component name', async () => {
    // Generated one route at a time, each name stands for that route's own schema; in the whole
    // document the first registration of a name silently wins over the others.
    const seen = new Map<string, { json: string; route: string }>()
    const clashes: string[] = []
    for (const definition of t.app.openAPIRegistry.definitions) {
      if (definition.type !== 'route') continue
      const one = new OpenAPIHono()
      one.openAPIRegistry.registerPath(definition.route)
      const schemas = one.getOpenAPI31Document({ openapi: '3.1.0', info: { title: '', version: '' } }).components?.schemas ?? {}
      const route = `${definition.route.method.toUpperCase()} ${definition.route.path}`
      for (const [name, schema] of Object.entries(schemas)) {
        const json = JSON.stringify(schema)
        const first = seen.get(name)
        if (!first) seen.set(name, { json, route })
        else if (first.json !== json) clashes.push(`${name}: ${first.route} and ${route}`)
      }
    }
    expect(seen.size).toBeGreaterThan(20)
    expect(clashes).toEqual([])
  })

  test('a JSON body the server refuses as empty (`{}`) is one the document refuses too, and the other way round', async () => {
    const doc = await document()
    const { cookie } = await t.signIn()
    const checked: string[] = []
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/')) continue
      for (const [method, operation] of Object.entries(item)) {
        const schema = (operation as { requestBody?: { content: Record<string, { schema: unknown }> } }).requestBody?.content['application/json']?.schema
        if (!schema) continue
        const res = await t.call(method.toUpperCase(), path.replace(/\{\w+\}/g, '1'), {}, { cookie }, {})
        const name = `${method.toUpperCase()} ${path}`
        checked.push(name)
        expect({ name, refusedByDocument: !documentedSchema(doc, schema).safeParse({}).success }).toEqual({ name, refusedByDocument: res.status === 400 })
      }
    }
    expect(checked).toContain('PATCH /api/items/{id}')
    expect(checked).toContain('PATCH /api/threads/{id}/candidates/{candidateId}')
  })

  test('integer path parameters document the range the server takes', async () => {
    const doc = await document()
    const { cookie } = await t.signIn()
    const checked: string[] = []
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const parameters = (operation as { parameters?: { name: string; in: string; schema: { type?: string } }[] }).parameters ?? []
        for (const parameter of parameters.filter((p) => p.in === 'path' && p.schema.type === 'integer')) {
          const schema = documentedSchema(doc, parameter.schema)
          const name = `${method.toUpperCase()} ${path} ${parameter.name}`
          checked.push(name)
          for (const value of [0, -1, 2_147_483_648]) {
            const url = path.replace(`{${parameter.name}}`, String(value)).replace(/\{\w+\}/g, '1')
            const res = await t.call(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {}, { cookie }, {})
            expect({ name, value, status: res.status }).toEqual({ name, value, status: 400 })
            expect({ name, value, refusedByDocument: !schema.safeParse(value).success }).toEqual({ name, value, refusedByDocument: true })
          }
          for (const value of [1, 2_147_483_647]) expect({ name, value, accepted: schema.safeParse(value).success }).toEqual({ name, value, accepted: true })
        }
      }
    }
    expect(checked).toContain('GET /api/setups/{id} id')
    expect(checked).toContain('PATCH /api/setups/{id}/items/{itemId} itemId')
  })

  test('every status, actionable header and body type a probe draws from an operation is documented', async () => {
    const doc = await document()
    const { cookie } = await t.signIn()
    const down = createApp({ services: createServices(unavailableDatabase(), { uploadDir: t.uploadDir, gearboxUrl: t.url }) })
    const problems: string[] = []
    const drawn = new Set<string>()
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of METHODS) {
        const operation = item[method]
        if (!operation) continue
        const name = `${method.toUpperCase()} ${path}`
        for (const probe of probes(cookie, t.auth)) {
          const url = path.replace(/\{\w+\}/g, '1') + (probe.query ?? '')
          const init = { method: method.toUpperCase(), headers: probe.headers, body: method === 'get' ? undefined : probe.body }
          for (const [app, where] of [
            [t.app, ''],
            [down, ' (database down)'],
          ] as const) {
            const res = await app.request(url, init)
            const text = await res.text()
            drawn.add(`${name} ${res.status}`)
            problems.push(...undocumented(operation, name, probe.what + where, res, text.length > 0))
            if (res.status === 503 && !res.headers.has('retry-after')) problems.push(`${name}: 503 to ${probe.what}${where} without Retry-After`)
          }
        }
      }
    }
    expect(problems).toEqual([])
    // The probes reach what they are for.
    for (const answer of [
      'PATCH /api/items/{id} 403',
      'PATCH /api/items/{id} 413',
      'POST /api/auth/login 503',
      'POST /oauth/authorize 403',
      'POST /mcp 415',
      'POST /mcp 406',
      'GET /mcp 405',
    ])
      expect(drawn).toContain(answer)
  }, 120_000)

  test('real answers validate against their documented schemas', async () => {
    const doc = await document()
    const category = await t.call('POST', '/api/categories', { name: 'Shelter', icon: 'tent' })
    const item = await t.call('POST', '/api/items', { name: 'Tent', weightGrams: 1200, priceCents: 35000, categoryId: category.body.id })
    const setup = await t.call('POST', '/api/setups', { name: 'Weekend' })
    await t.call('PUT', `/api/setups/${setup.body.id}/items`, { items: [{ itemId: item.body.id, classification: 'base' }] })
    const thread = await t.call('POST', '/api/threads', { name: 'Stove', categoryId: category.body.id })
    await t.call('POST', `/api/threads/${thread.body.id}/candidates`, { name: 'Pocket Rocket', weightGrams: 73 })
    const answers: [string, string, string][] = [
      ['get', '/api/setups/{id}', `/api/setups/${setup.body.id}`],
      ['get', '/api/setups', '/api/setups'],
      ['get', '/api/items/{id}', `/api/items/${item.body.id}`],
      ['get', '/api/items', '/api/items'],
      ['get', '/api/categories', '/api/categories'],
      ['get', '/api/threads/{id}', `/api/threads/${thread.body.id}`],
      ['get', '/api/threads', '/api/threads'],
      ['get', '/api/settings', '/api/settings'],
      ['get', '/api/auth/me', '/api/auth/me'],
    ]
    for (const [method, path, url] of answers) {
      const res = await t.call(method.toUpperCase(), url)
      const schema = doc.paths[path]?.[method]?.responses[String(res.status)]?.content?.['application/json']?.schema
      expect({ path, status: res.status, documented: schema !== undefined }).toEqual({ path, status: 200, documented: true })
      const result = documentedSchema(doc, schema).safeParse(res.body)
      expect({ path, issues: result.error?.issues ?? [] }).toEqual({ path, issues: [] })
    }
  })
})
