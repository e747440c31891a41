import { describe, expect, spyOn, test } from 'bun:test'
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import pino from 'pino'
import { handleError } from '../../src/routes/error-handler'
import type { AppEnv } from '../../src/routes/router'

describe('an unexpected error', () => {
  test('is a 500 with the request id; the log names it but holds no query parameter or detail', async () => {
    // What a postgres.js error carries besides its message: the query, its parameters, PostgreSQL's detail.
    const driverError = Object.assign(new Error('could not serialize access'), {
      code: 'XX000',
      query: 'update sessions set id = $1',
      parameters: ['SECRET-TOKEN-HASH'],
      detail: 'Key (id)=(SECRET-TOKEN-HASH) already exists.',
    })
    const app = new Hono<AppEnv>().use(requestId()).onError(handleError)
    app.get('/boom', () => {
      throw driverError
    })
    const logged = spyOn(console, 'error').mockImplementation(() => {})
    try {
      const res = await app.request('/boom')
      expect(res.status).toBe(500)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect(body.error.code).toBe('internal')
      expect(body.error.message).toMatch(/^internal error \(request [0-9a-f-]{36}\)$/)
      const line = logged.mock.calls.map((args) => args.join(' ')).join('\n')
      expect(line).toContain('unhandled error: Error: could not serialize access (XX000)')
      expect(line).toContain('error-handler.test.ts')
      expect(line).not.toContain('SECRET')
    } finally {
      logged.mockRestore()
    }
  })

  test("with the app's logger, it is one JSON record with the request id, like every other log line", async () => {
    const lines: string[] = []
    const log = pino({ level: 'info', base: undefined }, { write: (line: string) => void lines.push(line) })
    const app = new Hono<AppEnv>().use(requestId()).onError((error, c) => handleError(error, c, log))
    app.get('/boom', () => {
      throw Object.assign(new Error('could not serialize access'), { code: 'XX000', parameters: ['SECRET-TOKEN-HASH'] })
    })
    const res = await app.request('/boom')
    expect(res.status).toBe(500)
    expect(lines).toHaveLength(1)
    const record = JSON.parse(lines[0]!)
    expect(record).toMatchObject({ level: 50, msg: 'unhandled error', requestId: res.headers.get('x-request-id') })
    expect(record.error).toStartWith('Error: could not serialize access (XX000)\n')
    expect(lines[0]).not.toContain('SECRET')
  })
})
