import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/app'
import { useTestApp } from '../support/app'

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])

describe('Cache-Control', () => {
  const t = useTestApp()

  test('every /api answer is no-store: user data, a new key shown once, and errors', async () => {
    const { cookie } = await t.signIn()
    const session = { cookie, 'content-type': 'application/json' }
    const answers: [string, Response][] = [
      ['new API key', await t.app.request('/api/api-keys', { method: 'POST', headers: session, body: '{"name":"laptop"}' })],
      ['me', await t.app.request('/api/auth/me', { headers: { cookie } })],
      [
        'login',
        await t.app.request('/api/auth/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'owner', password: 'correct horse battery staple' }),
        }),
      ],
      ['list', await t.app.request('/api/items', { headers: t.auth })],
      ['not signed in', await t.app.request('/api/auth/me')],
      ['bad input', await t.app.request('/api/categories', { method: 'POST', headers: { ...t.auth, 'content-type': 'application/json' }, body: '{}' })],
      ['no such route', await t.app.request('/api/nothing-here', { headers: t.auth })],
      ['logout', await t.app.request('/api/auth/logout', { method: 'POST', headers: { cookie } })],
    ]
    expect(answers[0]![1].status).toBe(201)
    expect(((await answers[0]![1].json()) as { key: string }).key).toStartWith('gbx_')
    expect(answers.map(([name, res]) => [name, res.status, res.headers.get('cache-control')])).toEqual([
      ['new API key', 201, 'no-store'],
      ['me', 200, 'no-store'],
      ['login', 200, 'no-store'],
      ['list', 200, 'no-store'],
      ['not signed in', 401, 'no-store'],
      ['bad input', 400, 'no-store'],
      ['no such route', 404, 'no-store'],
      ['logout', 204, 'no-store'],
    ])
  })

  test("a route's own Cache-Control stands", async () => {
    const app = createApp({ services: t.services })
    app.get('/api/cached', (c) => c.json({}, 200, { 'cache-control': 'private, max-age=60' }))
    const res = await app.request('/api/cached', { headers: t.auth })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('private, max-age=60')
  })

  test('uploaded images keep their long-lived caching; the upload answer is no-store', async () => {
    const form = new FormData()
    form.append('file', new File([PNG], 'photo.png'))
    const uploaded = await t.app.request('/api/images', { method: 'POST', body: form, headers: t.auth })
    expect(uploaded.status).toBe(201)
    expect(uploaded.headers.get('cache-control')).toBe('no-store')
    const { filename } = (await uploaded.json()) as { filename: string }
    const image = await t.app.request(`/uploads/${filename}`)
    expect(image.status).toBe(200)
    expect(image.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  })

  test('token answers are no-store too (RFC 6749 section 5.1)', async () => {
    const res = await t.app.request('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=authorization_code&code=x&client_id=nobody&code_verifier=x',
    })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})
