import { describe, expect, test } from 'bun:test'
import { MAX_JSON_DEPTH } from '../../src/routes/middleware/json-body'
import { bodyOf, useTestApp } from '../support/app'

/** A body of text parts and raw byte runs, so a test can send bytes that are not UTF-8. */
const bytes = (...parts: (string | number[])[]) => new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...new TextEncoder().encode(p)] : p)))

describe('JSON bodies are taken as sent or refused', () => {
  const t = useTestApp()
  const send = (method: string, path: string, body: Uint8Array | string) =>
    t.app.request(path, { method, headers: { ...t.auth, 'content-type': 'application/json' }, body })
  const expectRefused = async (res: Response, path: string, message: string) => {
    expect(res.status).toBe(400)
    expect(await bodyOf(res)).toEqual({ error: { code: 'validation_failed', message: 'invalid body', details: [{ path, message }] } })
  }

  test('invalid UTF-8, a lone surrogate, NUL and duplicate keys are 400s naming the field; nothing is stored', async () => {
    const cases: [Uint8Array | string, string, string][] = [
      [bytes('{"name":"Caf', [0xe9], '","categoryId":1}'), 'name', 'is not valid UTF-8'],
      [bytes('{"name":"Tent","categoryId":1,"notes":"', [0xed, 0xa0, 0x80], '"}'), 'notes', 'is not valid UTF-8'],
      [bytes('{"name":"Tent","categoryId":1,"notes":"ok ', [0xf0, 0x9f], '"}'), 'notes', 'is not valid UTF-8'],
      ['{"name":"x\\ud800y","categoryId":1}', 'name', 'is not valid Unicode (a lone surrogate)'],
      ['{"name":"Tent","categoryId":1,"notes":"\\udc00"}', 'notes', 'is not valid Unicode (a lone surrogate)'],
      ['{"name":"a\\u0000b","categoryId":1}', 'name', 'must not contain NUL characters'],
      ['{"name":"Tent","categoryId":1,"name":"Tarp"}', 'name', 'duplicate key'],
      ['{"name":"Tent","categoryId":1,"categoryId":1}', 'categoryId', 'duplicate key'],
    ]
    for (const [body, path, message] of cases) await expectRefused(await send('POST', '/api/items', body), path, message)
    expect((await t.call('GET', '/api/items')).body).toEqual([])
  })

  test('every route: PATCH, nested arrays and other resources are checked the same way', async () => {
    const item = (await t.call('POST', '/api/items', { name: 'Tent', categoryId: 1 })).body
    const setup = (await t.call('POST', '/api/setups', { name: 'Trip' })).body
    await expectRefused(await send('PATCH', `/api/items/${item.id}`, bytes('{"notes":"', [0xff], '"}')), 'notes', 'is not valid UTF-8')
    await expectRefused(
      await send(
        'PUT',
        `/api/setups/${setup.id}/items`,
        `{"items":[{"itemId":${item.id},"classification":"base"},{"itemId":1,"itemId":2,"classification":"base"}]}`,
      ),
      'items.1.itemId',
      'duplicate key',
    )
    await expectRefused(await send('POST', '/api/categories', '{"name":"\\ud83d"}'), 'name', 'is not valid Unicode (a lone surrogate)')
    await expectRefused(await send('PUT', '/api/settings/currency', '{"value":"EUR\\u0000"}'), 'value', 'must not contain NUL characters')
    await expectRefused(await send('POST', '/api/auth/login', '{"username":"owner","username":"x","password":"p"}'), 'username', 'duplicate key')
    expect((await t.call('GET', `/api/items/${item.id}`)).body.notes).toBeNull()
    expect((await t.call('GET', '/api/categories')).body).toHaveLength(1)
  })

  test('valid text arrives unchanged: escapes, surrogate pairs and an encoded U+FFFD', async () => {
    const name = 'Café 😀 \u{fffd} "q" \\ tab\t'
    const res = await send('POST', '/api/items', bytes(`{"name":${JSON.stringify(name)},"categoryId":1,"notes":"\\ud83d\\ude00 \\u00e9"}`))
    expect(res.status).toBe(201)
    expect(await bodyOf(res)).toMatchObject({ name, notes: '😀 é' })
  })

  test('a body nested deeper than MAX_JSON_DEPTH is a 400 naming where, even without signing in and however deep', async () => {
    const nested = (depth: number, inner = '0') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    const message = `nests deeper than ${MAX_JSON_DEPTH} levels`
    const path = ['notes', ...Array.from({ length: MAX_JSON_DEPTH - 1 }, () => '0')].join('.')
    // At the limit the body is walked whole (and refused by the schema for what it holds).
    const atLimit = await send('POST', '/api/items', `{"name":"Tent","categoryId":1,"notes":${nested(MAX_JSON_DEPTH - 1)}}`)
    expect((await bodyOf(atLimit)).error.details).toEqual([{ path: 'notes', message: expect.not.stringContaining('nests') }])
    await expectRefused(await send('POST', '/api/items', `{"name":"Tent","categoryId":1,"notes":${nested(MAX_JSON_DEPTH)}}`), path, message)
    // Deep enough to overflow a recursive walk's stack, wide enough to take it seconds: at once a 400.
    const huge = `{"username":"owner","password":"p","x":${nested(100_000, Array(50_000).fill(0).join(','))}}`
    const login = await t.app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge })
    expect(login.status).toBe(400)
    expect((await bodyOf(login)).error.details).toEqual([{ path: `x${'.0'.repeat(MAX_JSON_DEPTH - 1)}`, message }])
    expect((await t.call('GET', '/api/items')).body).toEqual([])
  })

  test("malformed JSON is still the validators' 400, also when its bytes are not UTF-8", async () => {
    for (const body of ['{"name"', bytes('{"name":', [0xff])]) {
      const res = await send('POST', '/api/items', body)
      expect(res.status).toBe(400)
      // The body as a whole is the bad field.
      expect((await bodyOf(res)).error).toMatchObject({ code: 'validation_failed', details: [{ path: 'body', message: expect.any(String) }] })
    }
  })

  test('every way RFC 9110 section 8.3.1 lets a client write the JSON media type is JSON (whitespace around a parameter, case, quotes, +json)', async () => {
    const types = [
      'application/json ;charset=utf-8',
      'application/json\t; charset=utf-8',
      'application/json;  charset="utf-8"',
      'APPLICATION/JSON',
      'application/merge-patch+json',
    ]
    for (const [i, type] of types.entries()) {
      const res = await t.app.request('/api/categories', { method: 'POST', headers: { ...t.auth, 'content-type': type }, body: `{"name":"c${i}"}` })
      expect([type, res.status]).toEqual([type, 201])
    }
    // And over MCP, whose transport reads the Request itself.
    const mcp = await t.app.request('/mcp', {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json ;charset=utf-8', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"ping"}',
    })
    expect([mcp.status, await bodyOf(mcp)]).toEqual([200, { jsonrpc: '2.0', id: 1, result: {} }])
  })
})
