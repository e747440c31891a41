import { describe, expect, test } from 'bun:test'
import { OpenAPIHono } from '@hono/zod-openapi'
import { z } from 'zod'
import { bodyOf, useTestApp } from '../support/app'

// The document checked against what the server really does: each expectation comes from the app
// (its registered schemas, its answers to requests), not from a list kept beside the routes.

type Doc = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } }
type Operation = { responses: Record<string, { content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }> }

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
