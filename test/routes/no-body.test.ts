import { describe, expect, test } from 'bun:test'
import { useTestApp } from '../support/app'
import { exchange } from '../support/raw-http'

// api.md: "Unknown body keys are rejected (400), so a typo never silently drops a field." An
// endpoint that takes no body has no known keys: a body sent to it is a 400, before anything
// is looked up or changed; an empty one (Content-Length: 0) is no body.
const REFUSED = { code: 'validation_failed', message: 'invalid body', details: [{ path: 'body', message: 'this endpoint takes no body' }] }

/** The `error` of a JSON error body, or the text itself when it is none. */
function errorOf(text: string): unknown {
  try {
    return JSON.parse(text).error
  } catch {
    return text
  }
}

describe('an endpoint that takes no body', () => {
  const t = useTestApp({ serve: true })

  test('refuses one before changing anything: unresolving a thread, deleting an item', async () => {
    const thread = (await t.call('POST', '/api/threads', { name: 'tent', categoryId: 1 })).body
    const candidate = (await t.call('POST', `/api/threads/${thread.id}/candidates`, { name: 'a tent' })).body
    expect((await t.call('POST', `/api/threads/${thread.id}/resolve`, { candidateId: candidate.id })).status).toBe(200)
    const unresolve = await t.call('POST', `/api/threads/${thread.id}/unresolve`, { x: 1 })
    expect({ status: unresolve.status, error: unresolve.body.error }).toEqual({ status: 400, error: REFUSED })
    expect((await t.call('GET', `/api/threads/${thread.id}`)).body.status).toBe('resolved')

    const item = (await t.call('POST', '/api/items', { name: 'stove', categoryId: 1 })).body
    const remove = await t.call('DELETE', `/api/items/${item.id}`, { bogus: true })
    expect({ status: remove.status, error: remove.body.error }).toEqual({ status: 400, error: REFUSED })
    expect((await t.call('GET', `/api/items/${item.id}`)).status).toBe(200)
    // Not JSON at all, with or without a JSON type, and to an item that does not exist: the
    // body is wrong whatever the item, so it is the 400, not a 404.
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}] as Record<string, string>[]) {
      const res = await t.app.request('/api/items/99999', { method: 'DELETE', headers: { ...t.auth, ...headers }, body: 'not json at all' })
      expect({ headers, status: res.status, error: ((await res.json()) as any).error }).toEqual({ headers, status: 400, error: REFUSED })
    }

    // Key management still takes a session first: a key with a body is the 403 it always was.
    for (const [method, path] of [
      ['GET', '/api/api-keys'],
      ['DELETE', '/api/api-keys/1'],
    ] as const) {
      const res = await t.app.request(path, { method, headers: { ...t.auth, 'content-type': 'application/json', 'content-length': '2' } })
      expect({ method, status: res.status }).toEqual({ method, status: 403 })
    }

    // Without a body, or with an empty one, they work as before.
    expect((await t.call('POST', `/api/threads/${thread.id}/unresolve`, undefined, { 'content-length': '0' })).status).toBe(200)
    expect((await t.call('DELETE', `/api/items/${item.id}`, undefined, { 'content-length': '0' })).status).toBe(204)
    expect((await t.call('DELETE', `/api/items/${item.id}`)).status).toBe(404)
  })

  test('every API route without a request body refuses one, GET included, on the wire; an empty body is fine', async () => {
    const { cookie } = await t.signIn()
    const document = (await t.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { requestBody?: unknown }>> }
    const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, operation]) => operation.requestBody === undefined)
        .map(([method, _]) => ({ method: method.toUpperCase(), path: path.replace(/\{\w+\}/g, '99999') })),
    )
    const api = routes.filter(({ path }) => path.startsWith('/api/'))
    expect(api.length).toBeGreaterThanOrEqual(15)
    const port = new URL(t.url).port
    for (const { method, path } of api) {
      // Key management takes a session; the rest take the API key.
      const credentials = path.startsWith('/api/api-keys') ? `Cookie: ${cookie}` : `Authorization: ${t.auth.authorization}`
      const send = (headers: string, body = '') =>
        exchange(Number(port), `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${credentials}\r\nConnection: close\r\n${headers}\r\n${body}`)
      // JSON-typed: a session's body of another type is refused earlier (403, acceptBody).
      for (const [headers, body] of [
        ['Content-Type: application/json\r\nContent-Length: 9\r\n', '{"x": 1}\n'],
        ['Content-Type: application/json\r\nContent-Length: 15\r\n', 'not json at all'],
        ['Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'],
      ] as const) {
        const res = await send(headers, body)
        expect({ method, path, headers, status: res.status, error: errorOf(res.body) }).toEqual({ method, path, headers, status: 400, error: REFUSED })
      }
      for (const [headers, body] of [
        ['', ''],
        ['Content-Length: 0\r\n', ''],
        ['Content-Type: application/json\r\nContent-Length: 0\r\n', ''],
        // Only the last chunk: a client streaming an empty body (a GET's body is told by its headers alone).
        ...(method === 'GET' ? [] : [['Transfer-Encoding: chunked\r\n', '0\r\n\r\n'] as const]),
      ] as const) {
        const res = await send(headers, body)
        expect({ method, path, headers, refused: res.status === 400 && res.body.includes('takes no body') }).toEqual({ method, path, headers, refused: false })
      }
    }
  })
})
