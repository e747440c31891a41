import { describe, expect, spyOn, test } from 'bun:test'
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
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
})
