import { afterAll, beforeAll, describe, expect, spyOn, test } from 'bun:test'
import net from 'node:net'
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js'
import { type HttpServer, listen, MAX_BODY_BYTES, MAX_HEADER_BYTES } from '../../src/http-server'
import { OWNER, useTestApp } from '../support/app'
import { exchange } from '../support/raw-http'

/** The JSON of a body sent whole or chunked (a server without a length must chunk). */
function json(res: { headers: string; body: string }): any {
  if (!res.headers.includes('transfer-encoding: chunked')) return JSON.parse(res.body)
  let body = ''
  let rest = res.body
  for (;;) {
    const [size = '0', ...tail] = rest.split('\r\n')
    const length = Number.parseInt(size, 16)
    if (!length) return JSON.parse(body)
    const data = tail.join('\r\n')
    body += data.slice(0, length)
    rest = data.slice(length + 2)
  }
}

describe("a started server answers every request in the contract's JSON shape", () => {
  const t = useTestApp()
  let server: HttpServer
  beforeAll(async () => {
    server = await listen(t.app.fetch, 0, '127.0.0.1')
  })
  afterAll(() => server?.stop())
  const send = (request: string) => exchange(server.port, request)

  test('HTTP/1.0 without a Host header is routed by its path', async () => {
    const res = await send('GET /health/live HTTP/1.0\r\n\r\n')
    expect(res.status).toBe(200)
    expect(json(res)).toEqual({ status: 'ok' })
    expect((await send('GET /api/categories HTTP/1.0\r\n\r\n')).status).toBe(401)
  })

  test('HTTP/1.1 without a Host header is a JSON 400', async () => {
    const res = await send('GET /health/live HTTP/1.1\r\n\r\n')
    expect(res.status).toBe(400)
    expect(json(res)).toEqual({ error: { code: 'validation_failed', message: 'an HTTP/1.1 request needs a Host header' } })
  })

  test('a body over the server limit is a JSON 413, without waiting for the body', async () => {
    const res = await send(`POST /api/items HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n{`)
    expect(res.status).toBe(413)
    expect(json(res)).toEqual({ error: { code: 'payload_too_large', message: `request body is larger than ${MAX_BODY_BYTES} bytes` } })
  })

  test('a chunked body over a route limit is a JSON 413', async () => {
    const chunk = 'x'.repeat(64 * 1024)
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('')
    const res = await send(
      `POST /api/items HTTP/1.1\r\nHost: localhost\r\nauthorization: ${t.auth.authorization}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${chunks}0\r\n\r\n`,
    )
    expect(res.status).toBe(413)
    expect(json(res).error.code).toBe('payload_too_large')
  })

  test('oversized headers are a JSON 431', async () => {
    const res = await send(`GET /health/live HTTP/1.1\r\nHost: localhost\r\nx-filler: ${'x'.repeat(MAX_HEADER_BYTES + 1)}\r\n\r\n`)
    expect(res.status).toBe(431)
    expect(json(res)).toEqual({ error: { code: 'payload_too_large', message: `request headers are larger than ${MAX_HEADER_BYTES} bytes` } })
  })

  test('malformed request lines and headers are JSON 400s', async () => {
    for (const request of [
      'GARBAGE\r\n\r\n',
      'GET /health/live HTTP/9.9\r\nHost: localhost\r\n\r\n',
      'GET\r\n\r\n',
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nbad header line\r\n\r\n',
      'GET /health/live HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET /health/live HTTP/1.1\r\nHost: a b\r\n\r\n',
    ]) {
      const res = await send(request)
      expect(res.status).toBe(400)
      expect(json(res)).toEqual({ error: { code: 'validation_failed', message: 'malformed HTTP request' } })
    }
  })

  test("a signed-in browser's DELETE without Content-Length has no body, so no media type is asked of it", async () => {
    const item = await t.call('POST', '/api/items', { name: 'Tarp', categoryId: 1 })
    const login = await fetch(`http://127.0.0.1:${server.port}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(OWNER),
    })
    const cookie = login.headers.get('set-cookie')!.split(';')[0]
    // What fetch() sends for a DELETE without a body: neither Content-Length nor Transfer-Encoding.
    const res = await send(`DELETE /api/items/${item.body.id} HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`)
    expect(res.status).toBe(204)
    expect((await t.call('GET', `/api/items/${item.body.id}`)).status).toBe(404)
  })

  test('a chunked body, or none at all, keeps the request whole: a chunked MCP call is answered, a bodiless PUT is named a PUT', async () => {
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    })
    const mcp = await send(
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: ${t.auth.authorization}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${Buffer.byteLength(initialize).toString(16)}\r\n${initialize}\r\n0\r\n\r\n`,
    )
    expect(mcp.status).toBe(200)
    expect(json(mcp)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: LATEST_PROTOCOL_VERSION } })
    // As every other answer, the transport's carries the request id.
    expect(mcp.headers).toMatch(/\r\nx-request-id: [\w-]+/)
    const put = await send(`PUT /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: ${t.auth.authorization}\r\nconnection: close\r\n\r\n`)
    expect(put.status).toBe(404)
    expect(json(put)).toEqual({ error: { code: 'not_found', message: 'no route for PUT /api/items' } })
  })

  test('a body that stops arriving is a JSON 408 after the request timeout, and the connection closes', async () => {
    const slow = await listen(t.app.fetch, 0, '127.0.0.1', { requestTimeoutMs: 500 })
    const errors = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const started = performance.now()
      const res = await exchange(
        slow.port,
        `POST /api/items HTTP/1.1\r\nHost: localhost\r\nauthorization: ${t.auth.authorization}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":`,
      )
      expect(res.status).toBe(408)
      expect(json(res)).toEqual({ error: { code: 'validation_failed', message: 'the request body did not arrive within 0.5 s' } })
      expect(performance.now() - started).toBeLessThan(5_000)
      expect((await t.call('GET', '/api/items')).body).toEqual([])
      // The handler that was reading the body has finished: a graceful stop does not wait for it.
      expect(await Promise.race([slow.stop().then(() => 'stopped'), Bun.sleep(5_000).then(() => 'still waiting')])).toBe('stopped')
      // Its own late answer is dropped quietly, as after a hang-up: no ERR_HTTP_HEADERS_SENT on stderr.
      expect(errors.mock.calls.map((args) => String(args[0]))).toEqual([])
    } finally {
      errors.mockRestore()
      await slow.stop(true)
    }
  })

  test('a client that hangs up in the middle of its body is not logged as an unhandled error', async () => {
    const own = await listen(t.app.fetch, 0, '127.0.0.1')
    const errors = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const socket = net.connect(own.port, '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write(
        `POST /api/items HTTP/1.1\r\nHost: localhost\r\nauthorization: ${t.auth.authorization}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":`,
      )
      await Bun.sleep(300)
      socket.destroy()
      // stop() returns once every handler has finished, this one included.
      await own.stop()
      expect(errors.mock.calls.map((args) => String(args[0]))).toEqual([])
    } finally {
      errors.mockRestore()
    }
  })

  test('every answer given before the app sees the request is heard (for the request log and metrics)', async () => {
    const heard: unknown[] = []
    const own = await listen(t.app.fetch, 0, '127.0.0.1', { requestTimeoutMs: 300, onEarlyAnswer: (answer) => void heard.push(answer) })
    try {
      const send = (request: string) => exchange(own.port, request)
      expect((await send('GET /health/live HTTP/1.1\r\n\r\n')).status).toBe(400)
      expect((await send(`POST /api/items?x=1 HTTP/1.1\r\nHost: localhost\r\ncontent-length: ${MAX_BODY_BYTES + 1}\r\n\r\n{`)).status).toBe(413)
      expect((await send(`GET / HTTP/1.1\r\nHost: localhost\r\nx-big: ${'x'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`)).status).toBe(431)
      expect((await send('GET / HTTP/1.1\r\nHost: localhost\r\nbad header\r\n\r\n')).status).toBe(400)
      expect(
        (
          await send(
            `POST /api/items HTTP/1.1\r\nHost: localhost\r\n${t.auth.authorization ? `authorization: ${t.auth.authorization}\r\n` : ''}content-type: application/json\r\ncontent-length: 10\r\n\r\n{`,
          )
        ).status,
      ).toBe(408)
      // The app's own answers are not among them: it logs those itself.
      expect((await send('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).status).toBe(200)
      expect(heard).toEqual([
        { method: 'GET', path: '/health/live', status: 400 },
        { method: 'POST', path: '/api/items', status: 413 },
        { status: 431 },
        { status: 400 },
        { method: 'POST', path: '/api/items', status: 408 },
      ])
    } finally {
      await own.stop(true)
    }
  })

  test('the server still answers normally afterwards', async () => {
    const res = await send('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')
    expect(res.status).toBe(200)
    expect(json(res)).toEqual({ status: 'ok' })
  })
})

describe('pipelined requests', () => {
  test('on one connection are handled one after another and answered in order (RFC 9112 section 9.3.2)', async () => {
    const log: string[] = []
    const server = await listen(
      async (request) => {
        const path = new URL(request.url).pathname
        log.push(`start ${request.method} ${path}`)
        // The first takes longest: were they handled side by side, the others would end first.
        await Bun.sleep(path === '/first' ? 200 : 0)
        log.push(`end ${request.method} ${path}`)
        return Response.json({ path })
      },
      0,
      '127.0.0.1',
    )
    try {
      const request = (method: string, path: string, last = false) =>
        `${method} ${path} HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n${last ? 'connection: close\r\n' : ''}\r\n{}`
      const res = await exchange(server.port, request('POST', '/first') + request('DELETE', '/second') + request('POST', '/third', true))
      expect(log).toEqual(['start POST /first', 'end POST /first', 'start DELETE /second', 'end DELETE /second', 'start POST /third', 'end POST /third'])
      const answered = [...`${res.headers}\r\n\r\n${res.body}`.matchAll(/"path":"(\/\w+)"/g)].map((m) => m[1])
      expect(answered).toEqual(['/first', '/second', '/third'])
    } finally {
      await server.stop()
    }
  })

  test("a request's body time starts with its turn: a large body behind a slow request is not a 408", async () => {
    const server = await listen(
      async (request) => {
        const path = new URL(request.url).pathname
        const body = await request.text()
        // Longer than the request timeout: the second request waits that long for its turn.
        if (path === '/slow') await Bun.sleep(1_000)
        return Response.json({ path, bytes: body.length })
      },
      0,
      '127.0.0.1',
      { requestTimeoutMs: 500 },
    )
    try {
      // Large enough that the server stops reading the socket while the second request waits.
      const large = 'x'.repeat(1 << 20)
      const res = await exchange(
        server.port,
        `POST /slow HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\n\r\n{}` +
          `POST /large HTTP/1.1\r\nHost: localhost\r\ncontent-length: ${large.length}\r\nconnection: close\r\n\r\n${large}`,
      )
      const answered = [...`${res.headers}\r\n\r\n${res.body}`.matchAll(/\{"path":"\/\w+","bytes":\d+\}/g)].map((m) => JSON.parse(m[0]))
      expect(answered).toEqual([
        { path: '/slow', bytes: 2 },
        { path: '/large', bytes: large.length },
      ])
    } finally {
      await server.stop()
    }
  })
})
