import { describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { bodyOf, useTestApp } from '../support/app'

const TOOL_NAMES = [
  'list_categories',
  'create_category',
  'list_items',
  'get_item',
  'create_item',
  'update_item',
  'delete_item',
  'list_setups',
  'get_setup',
  'create_setup',
  'set_setup_items',
  'list_threads',
  'get_thread',
  'create_thread',
  'add_candidate',
  'resolve_thread',
  'get_settings',
]

describe('/mcp tools: the SDK client with an API key, each answer equal to its HTTP twin', () => {
  const t = useTestApp()

  /** The SDK client over Streamable HTTP into the app, with the owner's API key. */
  async function connect(): Promise<Client> {
    const client = new Client({ name: 'test', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL('http://localhost:3000/mcp'), {
      requestInit: { headers: t.auth },
      fetch: async (url, init) => t.app.request(String(url), init),
    })
    await client.connect(transport)
    return client
  }

  /** Calls one tool through the SDK client. */
  async function tool(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
    const client = await connect()
    try {
      return (await client.callTool({ name, arguments: args })) as CallToolResult
    } finally {
      await client.close()
    }
  }

  /** A successful tool's structured answer; its text block holds the same JSON. */
  async function ok(name: string, args: Record<string, unknown> = {}) {
    const result = await tool(name, args)
    expect(result.isError).toBeFalsy()
    expect(JSON.parse((result.content[0] as { text: string }).text)).toEqual(result.structuredContent)
    return result.structuredContent as any
  }

  /** A failed tool: isError, the API's error body as structuredContent and its message in the text. */
  async function failed(name: string, args: Record<string, unknown>) {
    const result = await tool(name, args)
    expect(result.isError).toBe(true)
    const body = result.structuredContent as any
    expect((result.content[0] as { text: string }).text).toStartWith(body.error.message)
    return body
  }

  const http = async (method: string, path: string, body?: unknown) => (await t.call(method, path, body)).body
  const errorPathsOf = (body: any): string[] => body.error.details.map((d: { path: string }) => d.path)

  test('tools/list: the contract names, annotations, and input schemas from the HTTP schemas', async () => {
    const client = await connect()
    const { tools } = await client.listTools()
    await client.close()
    expect(tools.map((x) => x.name).sort()).toEqual([...TOOL_NAMES].sort())
    const byName = Object.fromEntries(tools.map((x) => [x.name, x]))
    for (const name of ['list_categories', 'list_items', 'get_item', 'list_setups', 'get_setup', 'list_threads', 'get_thread', 'get_settings']) {
      expect(byName[name]!.annotations?.readOnlyHint).toBe(true)
    }
    // MCP annotations: destructiveHint false promises only additive updates (creates); whatever overwrites or removes is destructive.
    const additive = { readOnlyHint: false, destructiveHint: false, idempotentHint: false }
    for (const name of ['create_category', 'create_item', 'create_setup', 'create_thread', 'add_candidate']) expect(byName[name]!.annotations).toEqual(additive)
    for (const name of ['update_item', 'delete_item', 'set_setup_items', 'resolve_thread'])
      expect(byName[name]!.annotations).toEqual({ readOnlyHint: false, destructiveHint: true, idempotentHint: true })
    expect(byName.create_item!.inputSchema).toMatchObject({ type: 'object', required: ['name', 'categoryId'], additionalProperties: false })
    expect(byName.update_item!.inputSchema).toMatchObject({ required: ['id'], properties: { id: { type: 'integer' }, weightGrams: {} } })
    expect(byName.add_candidate!.inputSchema).toMatchObject({ required: ['threadId', 'name'] })
    // The list tools return whole lists: they take no paging parameters (api.md's inputs).
    expect(Object.keys(byName.list_items!.inputSchema.properties ?? {})).toEqual(['categoryId', 'q'])
    expect(Object.keys(byName.list_threads!.inputSchema.properties ?? {})).toEqual(['status'])
  })

  test('list_threads refuses limit and cursor instead of ignoring them', async () => {
    for (let i = 0; i < 3; i++) await http('POST', '/api/threads', { name: `t${i}`, categoryId: 1 })
    for (const args of [{ limit: '1' }, { cursor: 'abc' }]) {
      const body = await failed('list_threads', args)
      expect(errorPathsOf(body)).toEqual(Object.keys(args))
      expect(body.error.details[0].message).toBe('unknown field')
    }
  })

  test('categories: list_categories and create_category', async () => {
    const created = await ok('create_category', { name: 'Shelter', icon: 'tent' })
    const list = await http('GET', '/api/categories')
    expect(created).toEqual(list.find((c: { id: number }) => c.id === created.id))
    expect(await ok('list_categories')).toEqual({ items: list })
  })

  test('items: create, get, list with filters, update, delete', async () => {
    const shelter = (await http('POST', '/api/categories', { name: 'Shelter' })).id
    const created = await ok('create_item', { name: 'Tent', categoryId: shelter, weightGrams: 1250.5, priceCents: 34900, quantity: 2, notes: 'two doors' })
    expect(created).toEqual(await http('GET', `/api/items/${created.id}`))
    await http('POST', '/api/items', { name: 'Stove', categoryId: 1 })
    expect(await ok('get_item', { id: created.id })).toEqual(await http('GET', `/api/items/${created.id}`))
    expect(await ok('list_items')).toEqual({ items: await http('GET', '/api/items') })
    expect(await ok('list_items', { categoryId: shelter, q: 'DOORS' })).toEqual({ items: await http('GET', `/api/items?categoryId=${shelter}&q=DOORS`) })
    expect((await ok('list_items', { q: 'stove' })).items.map((i: { name: string }) => i.name)).toEqual(['Stove'])
    const updated = await ok('update_item', { id: created.id, weightGrams: null, name: 'Tent 2P' })
    expect(updated).toEqual(await http('GET', `/api/items/${created.id}`))
    expect(updated).toMatchObject({ weightGrams: null, name: 'Tent 2P' })
    const deleted = await tool('delete_item', { id: created.id })
    expect(deleted.isError).toBeFalsy()
    expect((await t.call('GET', `/api/items/${created.id}`)).status).toBe(404)
  })

  test('setups: create, set items, get, list', async () => {
    const tent = (await http('POST', '/api/items', { name: 'Tent', categoryId: 1, weightGrams: 1000, quantity: 1 })).id
    const fuel = (await http('POST', '/api/items', { name: 'Fuel', categoryId: 1, weightGrams: 230, priceCents: 500, quantity: 2 })).id
    const setup = await ok('create_setup', { name: 'Weekend' })
    expect(setup).toEqual(await http('GET', `/api/setups/${setup.id}`))
    const filled = await ok('set_setup_items', {
      id: setup.id,
      items: [
        { itemId: tent, classification: 'base' },
        { itemId: fuel, classification: 'consumable' },
      ],
    })
    expect(filled).toEqual(await http('GET', `/api/setups/${setup.id}`))
    expect(filled.totals).toMatchObject({ baseWeightGrams: 1000, consumableWeightGrams: 460, totalWeightGrams: 1460, totalPriceCents: 1000 })
    expect(await ok('get_setup', { id: setup.id })).toEqual(filled)
    expect(await ok('list_setups')).toEqual({ items: await http('GET', '/api/setups') })
  })

  test('threads: create, add a candidate, get, list by status, resolve', async () => {
    const thread = await ok('create_thread', { name: 'New tent', categoryId: 1 })
    expect(thread).toEqual(await http('GET', `/api/threads/${thread.id}`))
    const candidate = await ok('add_candidate', { threadId: thread.id, name: 'Duplex', weightGrams: 540, priceCents: 61900, pros: 'light' })
    const fetched = await http('GET', `/api/threads/${thread.id}`)
    expect(fetched.candidates).toEqual([candidate])
    expect(await ok('get_thread', { id: thread.id })).toEqual(fetched)
    expect(await ok('list_threads', { status: 'active' })).toEqual({ items: await http('GET', '/api/threads?status=active') })
    const resolution = await ok('resolve_thread', { id: thread.id, candidateId: candidate.id })
    expect(resolution).toEqual({ thread: await http('GET', `/api/threads/${thread.id}`), item: await http('GET', `/api/items/${resolution.item.id}`) })
    expect(await ok('list_threads', { status: 'resolved' })).toEqual({ items: await http('GET', '/api/threads?status=resolved') })
    expect(await ok('list_threads')).toEqual({ items: await http('GET', '/api/threads') })
  })

  test('settings: get_settings', async () => {
    await http('PUT', '/api/settings/weightUnit', { value: 'oz' })
    expect(await ok('get_settings')).toEqual(await http('GET', '/api/settings'))
    expect(await ok('get_settings')).toEqual({ weightUnit: 'oz' })
  })

  test('bad input: isError with the same error body as the HTTP route', async () => {
    const cases: [string, Record<string, unknown>, string, string, unknown][] = [
      ['create_item', { name: '', categoryId: 0, weightGrams: -1 }, 'POST', '/api/items', { name: '', categoryId: 0, weightGrams: -1 }],
      ['create_item', { name: 'Tent', categoryId: 1, wieght: 5 }, 'POST', '/api/items', { name: 'Tent', categoryId: 1, wieght: 5 }],
      ['create_item', { name: 'Tent', categoryId: 999 }, 'POST', '/api/items', { name: 'Tent', categoryId: 999 }],
      ['create_category', { name: ' ' }, 'POST', '/api/categories', { name: ' ' }],
      ['create_setup', {}, 'POST', '/api/setups', {}],
      ['create_thread', { name: 'x', categoryId: 'one' }, 'POST', '/api/threads', { name: 'x', categoryId: 'one' }],
    ]
    for (const [name, args, method, path, body] of cases) {
      const expected = await t.call(method, path, body)
      expect(expected.status).toBe(400)
      expect(await failed(name, args)).toEqual(expected.body)
    }
    await http('POST', '/api/categories', { name: 'Shelter' })
    const duplicate = await t.call('POST', '/api/categories', { name: 'Shelter' })
    expect(duplicate.status).toBe(409)
    expect(await failed('create_category', { name: 'Shelter' })).toEqual(duplicate.body)
  })

  test('a lone surrogate or NUL in a tool argument is an isError result naming the argument, like the HTTP route; nothing is stored', async () => {
    const cases: [string, Record<string, unknown>, string, string, string][] = [
      ['create_item', { name: 'x\ud800y', categoryId: 1 }, '/api/items', '{"name":"x\\ud800y","categoryId":1}', 'name'],
      ['create_item', { name: 'Tent', categoryId: 1, notes: 'a\u0000b' }, '/api/items', '{"name":"Tent","categoryId":1,"notes":"a\\u0000b"}', 'notes'],
      ['create_category', { name: '\udc00' }, '/api/categories', '{"name":"\\udc00"}', 'name'],
    ]
    for (const [name, args, path, body, field] of cases) {
      const expected = await t.call('POST', path, body)
      expect(expected.status).toBe(400)
      expect(errorPathsOf(expected.body)).toEqual([field])
      expect(await failed(name, args)).toEqual(expected.body)
    }
    const thread = await http('POST', '/api/threads', { name: 'Stove', categoryId: 1 })
    const candidate = await failed('add_candidate', { threadId: thread.id, name: 'Pocket', pros: 'light\u0000' })
    expect(errorPathsOf(candidate)).toEqual(['pros'])
    expect(await http('GET', '/api/items')).toEqual([])
    expect((await http('GET', '/api/categories')).map((c: { name: string }) => c.name)).toEqual(['Uncategorized'])
    expect((await http('GET', `/api/threads/${thread.id}`)).candidates).toEqual([])
  })

  test('an own __proto__ key in the arguments is an unknown field, as over HTTP; nothing is stored', async () => {
    // Sent as raw JSON-RPC: the SDK's parse (on either side) drops the key.
    const body = '{"name":"P1","__proto__":{"icon":"zzz"}}'
    const expected = await t.call('POST', '/api/categories', body)
    expect(expected.status).toBe(400)
    expect(expected.body.error.details).toEqual([{ path: '__proto__', message: 'unknown field' }])
    const res = await t.app.request('/mcp', {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"create_category","arguments":${body}}}`,
    })
    const answer = (await res.json()) as { id: number; result: CallToolResult }
    expect(answer.id).toBe(7)
    expect(answer.result.isError).toBe(true)
    expect(answer.result.structuredContent).toEqual(expected.body)
    expect((await http('GET', '/api/categories')).map((c: { name: string }) => c.name)).toEqual(['Uncategorized'])
  })

  test('a body or params the protocol cannot take are JSON-RPC errors naming what is wrong, never the REST error shape or -32603', async () => {
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const res = await t.app.request('/mcp', {
        method: 'POST',
        headers: { ...t.auth, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body,
      })
      return { status: res.status, body: (await res.json()) as any }
    }
    const call = (id: number, params: string) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`
    // A duplicate key in a tool's arguments is that tool's failure, with the HTTP route's error body; nothing is stored.
    const twice = await t.call('POST', '/api/categories', '{"name":"a","name":"b"}')
    expect(twice.body.error.details).toEqual([{ path: 'name', message: 'duplicate key' }])
    const dup = await post(call(1, '{"name":"create_category","arguments":{"name":"a","name":"b"}}'))
    expect([dup.status, dup.body.id, dup.body.result.isError, dup.body.result.structuredContent]).toEqual([200, 1, true, twice.body])
    // ...however deep, and in the message of a batch it is in only.
    const setup = await http('POST', '/api/setups', { name: 'Weekend' })
    const nested = await post(
      `[${call(2, '{"name":"list_categories","arguments":{}}')},${call(3, `{"name":"set_setup_items","arguments":{"id":${setup.id},"items":[{"itemId":1,"classification":"base","classification":"worn"}]}}`)}]`,
    )
    expect(nested.body.map((m: any) => [m.id, m.result.isError ?? false, m.result.structuredContent?.error?.details])).toEqual([
      [2, false, undefined],
      [3, true, [{ path: 'items.0.classification', message: 'duplicate key' }]],
    ])
    await http('DELETE', `/api/setups/${setup.id}`)
    // A duplicate key outside the arguments leaves the message ambiguous, so unreadable (as the SDK answers invalid JSON).
    expect(await post('{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}')).toEqual({
      status: 400,
      body: { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: id: duplicate key' } },
    })
    expect((await post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_items","name":"get_item"}}')).body.error.code).toBe(-32700)
    const tooLarge = await post(call(1, `{"name":"create_category","arguments":{"name":"${'x'.repeat(1024 * 1024)}"}}`))
    expect(tooLarge.status).toBe(413)
    expect(tooLarge.body).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000 } })
    // Arguments that are not an object: the tool's failure (isError, api.md), naming them; nothing runs.
    const notAnObject = {
      error: { code: 'validation_failed', message: 'invalid arguments', details: [{ path: 'arguments', message: 'must be an object' }] },
    }
    for (const args of ['null', '[]', '"x"', '5']) {
      const res = await post(call(2, `{"name":"create_category","arguments":${args}}`))
      expect([args, res.status, res.body.result.isError, res.body.result.structuredContent]).toEqual([args, 200, true, notAnObject])
    }
    // Params that do not fit the method otherwise: -32602 with the field, per message of a batch.
    expect((await post(call(3, '{"name":5}'))).body.error).toEqual({
      code: -32602,
      message: 'Invalid params: params.name: Invalid input: expected string, received number',
    })
    const initialize = await post(
      '{"jsonrpc":"2.0","id":4,"method":"initialize","params":{"protocolVersion":5,"capabilities":{},"clientInfo":{"name":"x","version":"1"}}}',
    )
    expect(initialize.body.error).toEqual({ code: -32602, message: 'Invalid params: params.protocolVersion: Invalid input: expected string, received number' })
    const batch = await post(`[${call(5, '{"name":5,"arguments":{}}')},${call(6, '{"name":"list_categories","arguments":{}}')}]`)
    expect(batch.body.map((m: any) => [m.id, m.error?.code ?? 'result'])).toEqual([
      [5, -32602],
      [6, 'result'],
    ])
    expect((await http('GET', '/api/categories')).map((c: { name: string }) => c.name)).toEqual(['Uncategorized'])

    // JSON-RPC 2.0 section 6: an empty batch is one -32600; so is a batch whose requests share an id,
    // which ran both tools with the last one's arguments (a delete of the item only the get named).
    expect(await post('[]')).toEqual({ status: 400, body: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: an empty batch' } } })
    const [a, b] = [await http('POST', '/api/items', { name: 'A', categoryId: 1 }), await http('POST', '/api/items', { name: 'B', categoryId: 1 })]
    const shared = await post(`[${call(7, `{"name":"delete_item","arguments":{"id":${a.id}}}`)},${call(7, `{"name":"get_item","arguments":{"id":${b.id}}}`)}]`)
    expect(shared).toEqual({
      status: 400,
      body: { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: the id 7 is given to more than one request of the batch' } },
    })
    expect((await http('GET', '/api/items')).map((i: { name: string }) => i.name)).toEqual(['A', 'B'])
    // The same number as a string is another id.
    const distinct = await post(
      `[${call(8, '{"name":"list_categories","arguments":{}}')},${call(8, '{"name":"list_setups","arguments":{}}').replace('"id":8', '"id":"8"')}]`,
    )
    expect(distinct.body.map((m: { id: unknown }) => m.id).sort()).toEqual([8, '8'])
    // MCP 2025-06-18 removed batching: a client that says it speaks that version (or a later one) gets one -32600, and nothing runs.
    const twoCalls = `[${call(9, `{"name":"delete_item","arguments":{"id":${b.id}}}`)},${call(10, '{"name":"list_categories","arguments":{}}')}]`
    for (const version of ['2025-06-18', '2025-11-25']) {
      expect(await post(twoCalls, { 'mcp-protocol-version': version })).toEqual({
        status: 400,
        body: {
          jsonrpc: '2.0',
          id: null,
          error: { code: -32600, message: `Invalid Request: MCP ${version} has no JSON-RPC batches (MCP-Protocol-Version); send one message per request` },
        },
      })
    }
    expect((await http('GET', '/api/items')).map((i: { name: string }) => i.name)).toEqual(['A', 'B'])
    // One message under those versions, and a batch under 2025-03-26 (the version of a request without the header), still run.
    expect((await post(call(11, '{"name":"list_categories","arguments":{}}'), { 'mcp-protocol-version': '2025-06-18' })).body.result.isError).toBeUndefined()
    expect(
      (await post(twoCalls, { 'mcp-protocol-version': '2025-03-26' })).body.map((m: { id: number }) => m.id).sort((x: number, y: number) => x - y),
    ).toEqual([9, 10])
  })

  test('update_item with no field, or a bad id, is a validation error naming the field', async () => {
    const item = (await http('POST', '/api/items', { name: 'Tent', categoryId: 1 })).id
    const empty = await t.call('PATCH', `/api/items/${item}`, {})
    expect(await failed('update_item', { id: item })).toEqual(empty.body)
    for (const id of [0, -1, 1.5, 'abc', 99_999_999_999, undefined]) {
      const body = await failed('get_item', id === undefined ? {} : { id })
      expect(body.error.code).toBe('validation_failed')
      expect(body.error.details.map((d: { path: string }) => d.path)).toEqual(['id'])
    }
  })

  test('unknown ids: isError with the HTTP route not_found message', async () => {
    const cases: [string, Record<string, unknown>, string, string, unknown?][] = [
      ['get_item', { id: 999 }, 'GET', '/api/items/999'],
      ['update_item', { id: 999, name: 'x' }, 'PATCH', '/api/items/999', { name: 'x' }],
      ['delete_item', { id: 999 }, 'DELETE', '/api/items/999'],
      ['get_setup', { id: 999 }, 'GET', '/api/setups/999'],
      ['set_setup_items', { id: 999, items: [] }, 'PUT', '/api/setups/999/items', { items: [] }],
      ['get_thread', { id: 999 }, 'GET', '/api/threads/999'],
      ['add_candidate', { threadId: 999, name: 'x' }, 'POST', '/api/threads/999/candidates', { name: 'x' }],
      ['resolve_thread', { id: 999, candidateId: 1 }, 'POST', '/api/threads/999/resolve', { candidateId: 1 }],
    ]
    for (const [name, args, method, path, body] of cases) {
      const expected = await t.call(method, path, body)
      expect(expected.status).toBe(404)
      expect(await failed(name, args)).toEqual(expected.body)
    }
    const setup = (await http('POST', '/api/setups', { name: 'Weekend' })).id
    const unknownItem = await t.call('PUT', `/api/setups/${setup}/items`, { items: [{ itemId: 42, classification: 'base' }] })
    expect(unknownItem.status).toBe(400)
    expect(await failed('set_setup_items', { id: setup, items: [{ itemId: 42, classification: 'base' }] })).toEqual(unknownItem.body)
  })

  test('an unknown tool is a protocol error; a tool call without a token is a 401', async () => {
    await expect(tool('drop_database')).rejects.toThrow('unknown tool drop_database')
    await expect(tool('constructor')).rejects.toThrow('unknown tool constructor')
    const res = await t.app.request('/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_items', arguments: {} } }),
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp"')
    expect((await bodyOf(res)).error.code).toBe('unauthorized')
  })
})
