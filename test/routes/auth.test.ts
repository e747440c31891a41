import { describe, expect, test } from 'bun:test'
import { createApp } from '../../src/app'
import { listen } from '../../src/http-server'
import { createServices } from '../../src/services'
import { DEFAULT_LOGIN_THROTTLE } from '../../src/services/auth-service'
import { OWNER, sha256, useTestApp } from '../support/app'
import { serverUrl, untilLocksWait } from '../support/database'

const THIRTY_DAYS = 30 * 24 * 60 * 60

describe('auth routes', () => {
  const t = useTestApp()

  /** POSTs JSON without any credentials, as a browser that is not signed in yet. */
  const post = (path: string, body: unknown, headers: Record<string, string> = {}, url = `http://localhost${path}`, app = t.app) =>
    app.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

  const login = (username = OWNER.username, password = OWNER.password, headers: Record<string, string> = {}) =>
    post('/api/auth/login', { username, password }, headers)

  const withCookie = (cookie: string, path: string, init: RequestInit = {}) =>
    t.app.request(path, { ...init, headers: { cookie, ...(init.headers as Record<string, string>) } })

  describe('POST /api/auth/setup', () => {
    const noUsers = () => t.db.deleteFrom('users').execute()

    test('creates the first user and stores only an argon2id hash of the password', async () => {
      await noUsers()
      const res = await post('/api/auth/setup', { username: 'alice', password: 'a long passphrase' })
      expect(res.status).toBe(201)
      const { user } = (await res.json()) as { user: { id: number; username: string; createdAt: string } }
      expect(user).toEqual({ id: 2, username: 'alice', createdAt: expect.any(String) })
      expect(Number.isNaN(Date.parse(user.createdAt))).toBe(false)
      const row = await t.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow()
      expect(row.password_hash).toStartWith('$argon2id$')
      expect(row.password_hash).not.toContain('a long passphrase')
      expect(await Bun.password.verify('a long passphrase', row.password_hash)).toBe(true)
      expect((await login('alice', 'a long passphrase')).status).toBe(200)
    })

    test('is a 409 once a user exists', async () => {
      const res = await post('/api/auth/setup', { username: 'mallory', password: 'takeover attempt' })
      expect(res.status).toBe(409)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('conflict')
      expect(await t.db.selectFrom('users').select('username').execute()).toEqual([{ username: 'owner' }])
    })

    test.each([
      ['a 7-character password', { username: 'alice', password: '1234567' }, 'password'],
      ['a 257-character password', { username: 'alice', password: 'x'.repeat(257) }, 'password'],
      ['an empty username', { username: '', password: 'long enough' }, 'username'],
      ['a blank username', { username: '   ', password: 'long enough' }, 'username'],
      ['a 65-character username', { username: 'u'.repeat(65), password: 'long enough' }, 'username'],
      ['a missing password', { username: 'alice' }, 'password'],
      ['an unknown key', { username: 'alice', password: 'long enough', admin: true }, 'admin'],
    ])('rejects %s with a 400 naming the field', async (_, body, path) => {
      await noUsers()
      const res = await post('/api/auth/setup', body)
      expect(res.status).toBe(400)
      const { error } = (await res.json()) as { error: { code: string; details: { path: string }[] } }
      expect(error.code).toBe('validation_failed')
      expect(error.details.map((d) => d.path)).toContain(path)
      expect(await t.db.selectFrom('users').selectAll().execute()).toEqual([])
    })

    test('accepts exactly 8 and 256 characters and a 64-character username', async () => {
      await noUsers()
      expect((await post('/api/auth/setup', { username: 'u'.repeat(64), password: '12345678' })).status).toBe(201)
      await noUsers()
      expect((await post('/api/auth/setup', { username: 'alice', password: 'p'.repeat(256) })).status).toBe(201)
    })

    test('refuses a foreign Origin', async () => {
      await noUsers()
      const res = await post('/api/auth/setup', { username: 'alice', password: 'long enough' }, { origin: 'https://evil.example' })
      expect(res.status).toBe(403)
      expect(await t.db.selectFrom('users').selectAll().execute()).toEqual([])
    })
  })

  describe('POST /api/auth/login', () => {
    test('answers the user and sets an HttpOnly, SameSite=Lax session cookie for 30 days', async () => {
      const before = Date.now()
      const res = await login()
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ user: { id: t.ownerId, username: 'owner', createdAt: expect.any(String) } })
      const cookie = res.headers.get('set-cookie')!
      const [pair, ...attributes] = cookie.split('; ')
      expect(pair).toMatch(/^gearbox_session=[A-Za-z0-9_-]{43}$/)
      expect(attributes.sort()).toEqual(['HttpOnly', `Max-Age=${THIRTY_DAYS}`, 'Path=/', 'SameSite=Lax'])

      // Only the SHA-256 of the token is stored, and it expires in 30 days.
      const token = pair!.slice('gearbox_session='.length)
      const sessions = await t.db.selectFrom('sessions').selectAll().execute()
      expect(sessions).toEqual([{ id: sha256(token), user_id: t.ownerId, expires_at: expect.any(Date) }])
      const ttl = sessions[0]!.expires_at.getTime() - before
      expect(ttl).toBeGreaterThanOrEqual(THIRTY_DAYS * 1000 - 1000)
      expect(ttl).toBeLessThanOrEqual(THIRTY_DAYS * 1000 + 5000)
    })

    test('marks the cookie Secure on https and behind a proxy that says https', async () => {
      const direct = await post('/api/auth/login', OWNER, {}, 'https://gear.example/api/auth/login')
      expect(direct.status).toBe(200)
      expect(direct.headers.get('set-cookie')).toContain('; Secure')
      const proxied = await login(OWNER.username, OWNER.password, { 'x-forwarded-proto': 'https' })
      expect(proxied.headers.get('set-cookie')).toContain('; Secure')
      const plain = await login()
      expect(plain.headers.get('set-cookie')).not.toContain('Secure')
    })

    test('marks the cookie Secure when GEARBOX_URL is https, though the proxy says nothing of it', async () => {
      const behindProxy = createApp({ services: createServices(t.db, { uploadDir: t.uploadDir, gearboxUrl: 'https://gear.example' }) })
      // The proxy terminates TLS and forwards plain http without X-Forwarded-Proto.
      const res = await post('/api/auth/login', OWNER, {}, 'http://127.0.0.1:3000/api/auth/login', behindProxy)
      expect(res.status).toBe(200)
      const cookie = res.headers.get('set-cookie')!
      expect(cookie.split('; ')).toContain('Secure')
      // Clearing it names the same attributes, or a browser would keep the Secure cookie.
      const out = await behindProxy.request('http://127.0.0.1:3000/api/auth/logout', { method: 'POST', headers: { cookie: cookie.split('; ')[0]! } })
      expect(out.status).toBe(204)
      expect(out.headers.get('set-cookie')).toBe('gearbox_session=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax')
    })

    test('a wrong password and an unknown user get the same 401 and no cookie', async () => {
      const wrong = await login(OWNER.username, 'not the password')
      const unknown = await login('nobody', OWNER.password)
      for (const res of [wrong, unknown]) {
        expect(res.status).toBe(401)
        expect(res.headers.get('set-cookie')).toBeNull()
        expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'wrong username or password' } })
      }
      expect(await t.db.selectFrom('sessions').selectAll().execute()).toEqual([])
    })

    test('rejects a body that is not the expected shape', async () => {
      expect((await post('/api/auth/login', { username: 'owner' })).status).toBe(400)
      expect((await post('/api/auth/login', { ...OWNER, remember: true })).status).toBe(400)
      const text = await t.app.request('/api/auth/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'owner' })
      expect(text.status).toBe(400)
    })

    test('refuses a foreign Origin but accepts the same origin', async () => {
      expect((await login(OWNER.username, OWNER.password, { origin: 'http://evil.example' })).status).toBe(403)
      expect((await login(OWNER.username, OWNER.password, { origin: 'http://localhost' })).status).toBe(200)
    })

    describe('throttling', () => {
      const fail = () => login(OWNER.username, 'wrong password')

      test('after 5 failed attempts the 6th is a 429 with Retry-After, even with the right password', async () => {
        for (let i = 0; i < 5; i++) expect((await fail()).status).toBe(401)
        const refused = await login()
        expect(refused.status).toBe(429)
        const retryAfter = Number(refused.headers.get('retry-after'))
        expect(retryAfter).toBeGreaterThan(890)
        expect(retryAfter).toBeLessThanOrEqual(900)
        expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('too_many_requests')
        expect(refused.headers.get('set-cookie')).toBeNull()
        // Counted per username, in the database.
        expect(await t.db.selectFrom('login_attempts').select(['username', 'attempts']).execute()).toEqual([{ username: 'owner', attempts: 6 }])
        expect((await login('someone else', 'whatever')).status).toBe(401)
      })

      test('once the window has passed, signing in works again', async () => {
        for (let i = 0; i < 6; i++) await fail()
        expect((await login()).status).toBe(429)
        await t.db
          .updateTable('login_attempts')
          .set({ window_started_at: new Date(Date.now() - 16 * 60 * 1000) })
          .execute()
        expect((await login()).status).toBe(200)
      })

      test('a success clears the count', async () => {
        for (let i = 0; i < 4; i++) await fail()
        expect((await login()).status).toBe(200)
        expect(await t.db.selectFrom('login_attempts').selectAll().execute()).toEqual([])
        for (let i = 0; i < 5; i++) expect((await fail()).status).toBe(401)
        expect((await fail()).status).toBe(429)
      })

      test('unknown usernames are throttled the same way', async () => {
        for (let i = 0; i < 5; i++) expect((await login('ghost', 'guess')).status).toBe(401)
        expect((await login('ghost', 'guess')).status).toBe(429)
      })

      test('parallel guesses cannot exceed the limit', async () => {
        const statuses = (await Promise.all(Array.from({ length: 8 }, fail))).map((r) => r.status).sort()
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
      })

      /** A sign-in from a client at `address`, with the bindings the HTTP server (src/http-server.ts) hands over. */
      const loginFrom = (address: string, password = OWNER.password, headers: Record<string, string> = {}, app = t.app) =>
        app.request(
          '/api/auth/login',
          { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ ...OWNER, password }) },
          { incoming: { socket: { remoteAddress: address } } },
        )

      test('failures from one address never lock the owner out from another, however long they go on', async () => {
        for (let i = 0; i < 6; i++) await loginFrom('203.0.113.66', 'wrong password')
        const locked = await loginFrom('203.0.113.66')
        expect(locked.status).toBe(429)
        expect((await loginFrom('198.51.100.5')).status).toBe(200)
        // The attacker's window is not renewed by further attempts: Retry-After only counts down.
        await t.db
          .updateTable('login_attempts')
          .set({ window_started_at: new Date(Date.now() - 600_000) })
          .execute()
        for (let i = 0; i < 5; i++) {
          const again = await loginFrom('203.0.113.66', 'wrong password')
          expect(again.status).toBe(429)
          expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(300)
        }
        expect((await loginFrom('2001:db8::1')).status).toBe(200)
        expect(await t.db.selectFrom('login_attempts').select(['username', 'client_address', 'attempts']).execute()).toEqual([
          { username: 'owner', client_address: '203.0.113.66', attempts: 12 },
        ])
      })

      test('X-Forwarded-For counts only with GEARBOX_TRUST_PROXY, and then only the entry the proxy appended', async () => {
        // Without a trusted proxy, a client that rotates X-Forwarded-For is still one socket address.
        for (let i = 0; i < 6; i++) await loginFrom('203.0.113.66', 'wrong password', { 'x-forwarded-for': `10.0.0.${i}` })
        expect((await loginFrom('203.0.113.66', OWNER.password, { 'x-forwarded-for': '10.0.0.99' })).status).toBe(429)

        const proxied = createApp({ services: t.services, trustProxy: true })
        const viaProxy = (written: string, password?: string) => loginFrom('127.0.0.1', password, { 'x-forwarded-for': `${written}, 198.51.100.20` }, proxied)
        // Entries the client wrote itself come first; the proxy appended the real address last.
        for (let i = 0; i < 6; i++) await viaProxy(`10.1.1.${i}`, 'wrong password')
        expect((await viaProxy('10.9.9.9')).status).toBe(429)
        expect((await loginFrom('127.0.0.1', OWNER.password, { 'x-forwarded-for': '198.51.100.21' }, proxied)).status).toBe(200)
        expect((await t.db.selectFrom('login_attempts').select('client_address').orderBy('client_address').execute()).map((r) => r.client_address)).toEqual([
          '198.51.100.20',
          '203.0.113.66',
        ])
      })

      test('on a real server the socket address is the one counted', async () => {
        const server = await listen(t.app.fetch, 0, '127.0.0.1')
        try {
          const res = await fetch(`http://127.0.0.1:${server.port}/api/auth/login`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.0.1' },
            body: JSON.stringify({ username: OWNER.username, password: 'wrong password' }),
          })
          expect(res.status).toBe(401)
        } finally {
          await server.stop()
        }
        expect(await t.db.selectFrom('login_attempts').select(['username', 'client_address']).execute()).toEqual([
          { username: 'owner', client_address: '127.0.0.1' },
        ])
      })

      test('a flood of names keeps the table at its cap, and the rows that hold a lock stay', async () => {
        const capped = createApp({ services: createServices(t.db, { uploadDir: '/nonexistent', loginThrottle: { ...DEFAULT_LOGIN_THROTTLE, maxRows: 20 } }) })
        for (let i = 0; i < 6; i++) await loginFrom('203.0.113.66', 'wrong password', {}, capped)
        const spray = (name: string) =>
          capped.request(
            '/api/auth/login',
            { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: name, password: 'x' }) },
            { incoming: { socket: { remoteAddress: '203.0.113.66' } } },
          )
        for (let i = 0; i < 60; i++) expect((await spray(`sprayed${i}`)).status).toBe(401)
        const { count } = await t.db
          .selectFrom('login_attempts')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .executeTakeFirstOrThrow()
        expect(count).toBe(20)
        expect((await loginFrom('203.0.113.66', OWNER.password, {}, capped)).status).toBe(429)
      })
    })
  })

  describe('GET /api/auth/me', () => {
    test('answers the user for a session cookie and for an API key', async () => {
      const { cookie } = await t.signIn()
      const bySession = await withCookie(cookie, '/api/auth/me')
      expect(bySession.status).toBe(200)
      expect(await bySession.json()).toEqual({ user: { id: t.ownerId, username: 'owner', createdAt: expect.any(String) } })
      const byKey = await t.call('GET', '/api/auth/me')
      expect(byKey).toMatchObject({ status: 200, body: { user: { id: t.ownerId, username: 'owner' } } })
    })

    test('is a 401 without credentials, with an unknown cookie or a bad key', async () => {
      const attempts: Record<string, string>[] = [
        {},
        { cookie: 'gearbox_session=not-a-session' },
        { authorization: 'Bearer gbx_unknown' },
        { authorization: 'Basic b3duZXI6eA==' },
      ]
      for (const headers of attempts) {
        const res = await t.app.request('/api/auth/me', { headers })
        expect(res.status).toBe(401)
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
      }
    })

    test('beside a session cookie, an Authorization of another scheme is ignored, but a Bearer key always counts', async () => {
      const { cookie } = await t.signIn()
      // A browser behind a proxy with HTTP Basic auth sends this on every request.
      for (const authorization of ['Basic b3duZXI6eA==', 'Digest username="owner"', 'bearerish gbx_x', 'Negotiate']) {
        const res = await withCookie(cookie, '/api/auth/me', { headers: { authorization } })
        expect({ authorization, status: res.status }).toEqual({ authorization, status: 200 })
      }
      const write = await withCookie(cookie, '/api/categories', {
        method: 'POST',
        headers: { authorization: 'Basic b3duZXI6eA==', 'content-type': 'application/json', origin: 'http://localhost' },
        body: '{"name":"Shelter"}',
      })
      expect(write.status).toBe(201)
      // Still the cookie's rules: a foreign page is refused, however it authorizes.
      const foreign = await withCookie(cookie, '/api/categories', {
        method: 'POST',
        headers: { authorization: 'Basic b3duZXI6eA==', 'content-type': 'application/json', origin: 'https://evil.example' },
        body: '{"name":"Sleep"}',
      })
      expect(foreign.status).toBe(403)
      // A key that is sent is meant: a bad or malformed one is a 401 even with a valid cookie.
      for (const authorization of ['Bearer gbx_unknown', 'bearer gbx_unknown', 'Bearer', 'Bearer ']) {
        const res = await withCookie(cookie, '/api/auth/me', { headers: { authorization } })
        expect({ authorization, status: res.status }).toEqual({ authorization, status: 401 })
        expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'invalid API key' } })
      }
      expect((await withCookie(cookie, '/api/auth/me', { headers: t.auth })).status).toBe(200)
    })

    test('an expired session is a 401 and is deleted', async () => {
      const { cookie, token } = await t.signIn()
      await t.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .execute()
      expect((await withCookie(cookie, '/api/auth/me')).status).toBe(401)
      expect(await t.db.selectFrom('sessions').selectAll().where('id', '=', sha256(token)).execute()).toEqual([])
    })
  })

  describe('POST /api/auth/logout', () => {
    test('ends the session: 204, the row is gone, the cookie is cleared and no longer works', async () => {
      const { cookie } = await t.signIn()
      const res = await withCookie(cookie, '/api/auth/logout', { method: 'POST' })
      expect(res.status).toBe(204)
      expect(res.headers.get('set-cookie')).toMatch(/^gearbox_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/)
      expect(await t.db.selectFrom('sessions').selectAll().execute()).toEqual([])
      expect((await withCookie(cookie, '/api/auth/me')).status).toBe(401)
    })

    test('only ends its own session', async () => {
      const first = await t.signIn()
      const second = await t.signIn()
      expect((await withCookie(first.cookie, '/api/auth/logout', { method: 'POST' })).status).toBe(204)
      expect((await withCookie(second.cookie, '/api/auth/me')).status).toBe(200)
    })

    test('an expired, unknown or missing session is still a 204 that clears the cookie', async () => {
      const cleared = /^gearbox_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/
      const expired = await t.signIn()
      const other = await t.signIn()
      await t.db
        .updateTable('sessions')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', sha256(expired.token))
        .execute()
      const attempts: Record<string, string>[] = [
        { cookie: expired.cookie },
        { cookie: 'gearbox_session=not-a-session' },
        { cookie: 'gearbox_session=' },
        {},
        // A key is not what logout acts on: sent alone, valid or not, it changes nothing.
        { authorization: 'Bearer gbx_unknown' },
        t.auth,
      ]
      for (const headers of attempts) {
        const res = await t.app.request('/api/auth/logout', { method: 'POST', headers })
        expect({ headers, status: res.status, setCookie: res.headers.get('set-cookie') }).toEqual({
          headers,
          status: 204,
          setCookie: expect.stringMatching(cleared),
        })
      }
      // The expired row is gone; the other session and the API key still work.
      expect((await t.db.selectFrom('sessions').select('id').execute()).map((s) => s.id)).toEqual([sha256(other.token)])
      expect((await withCookie(other.cookie, '/api/auth/me')).status).toBe(200)
      expect((await t.call('GET', '/api/auth/me')).status).toBe(200)
    })

    test('a foreign page cannot sign the user out', async () => {
      const { cookie } = await t.signIn()
      const evil = { origin: 'https://evil.example' }
      const res = await withCookie(cookie, '/api/auth/logout', { method: 'POST', headers: evil })
      expect(res.status).toBe(403)
      expect(res.headers.get('set-cookie')).toBeNull()
      expect(await t.db.selectFrom('sessions').selectAll().execute()).toHaveLength(1)
      // Not with a cookie that names no session either; without any cookie there is nothing to refuse.
      expect((await withCookie('gearbox_session=not-a-session', '/api/auth/logout', { method: 'POST', headers: evil })).status).toBe(403)
      expect((await t.app.request('/api/auth/logout', { method: 'POST', headers: evil })).status).toBe(204)
      expect((await withCookie(cookie, '/api/auth/logout', { method: 'POST', headers: { origin: 'http://localhost' } })).status).toBe(204)
      expect(await t.db.selectFrom('sessions').selectAll().execute()).toEqual([])
    })
  })

  describe('CSRF protection of cookie-authenticated requests', () => {
    const json = { 'content-type': 'application/json' }
    const createCategory = (cookie: string, headers: Record<string, string>, body = JSON.stringify({ name: 'Shelter' })) =>
      withCookie(cookie, '/api/categories', { method: 'POST', headers, body })

    test('a same-origin JSON request passes', async () => {
      const { cookie } = await t.signIn()
      expect((await createCategory(cookie, { ...json, origin: 'http://localhost' })).status).toBe(201)
      expect((await createCategory(cookie, { ...json, origin: 'https://gear.example', 'x-forwarded-host': 'gear.example' }, '{"name":"Sleep"}')).status).toBe(
        201,
      )
    })

    test.each([
      ['another host', 'https://evil.example'],
      ['another port', 'http://localhost:8080'],
      ['an opaque origin', 'null'],
    ])('an Origin of %s is a 403', async (_, origin) => {
      const { cookie } = await t.signIn()
      const res = await createCategory(cookie, { ...json, origin })
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('forbidden')
      expect(await t.db.selectFrom('categories').select('name').execute()).toEqual([{ name: 'Uncategorized' }])
    })

    test.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])('a %s body is a 403', async (type) => {
      const { cookie } = await t.signIn()
      expect((await createCategory(cookie, { 'content-type': type })).status).toBe(403)
    })

    test('a body without a content type is a 403', async () => {
      const { cookie } = await t.signIn()
      const res = await withCookie(cookie, '/api/categories', { method: 'POST', body: new Blob(['{"name":"Shelter"}']) })
      expect(res.status).toBe(403)
    })

    test('DELETE, PUT and PATCH are checked too; GET is not', async () => {
      const { cookie } = await t.signIn()
      const evil = { origin: 'https://evil.example' }
      expect((await withCookie(cookie, '/api/categories/1', { method: 'DELETE', headers: evil })).status).toBe(403)
      expect((await withCookie(cookie, '/api/settings/currency', { method: 'PUT', headers: { ...json, ...evil }, body: '{"value":"EUR"}' })).status).toBe(403)
      expect((await withCookie(cookie, '/api/categories/1', { method: 'PATCH', headers: { ...json, ...evil }, body: '{"name":"X"}' })).status).toBe(403)
      expect((await withCookie(cookie, '/api/categories', { headers: evil })).status).toBe(200)
    })

    test('an image upload may be multipart, but not from a foreign Origin', async () => {
      const { cookie } = await t.signIn()
      const upload = (headers: Record<string, string>) => {
        const form = new FormData()
        form.append('file', new Blob(['not an image'], { type: 'text/plain' }), 'x.txt')
        return withCookie(cookie, '/api/images', { method: 'POST', headers, body: form })
      }
      // Past the CSRF check, the upload itself is judged (a text file is a 400).
      expect((await upload({})).status).toBe(400)
      expect((await upload({ origin: 'https://evil.example' })).status).toBe(403)
      // The upload route takes forms only, as the JSON routes take JSON only.
      expect((await withCookie(cookie, '/api/images', { method: 'POST', headers: json, body: '{}' })).status).toBe(403)
    })

    test('API-key requests are not cookie-based and skip the checks', async () => {
      const res = await t.call('POST', '/api/categories', { name: 'Shelter' }, { origin: 'https://evil.example' })
      expect(res.status).toBe(201)
    })
  })
})

// PGlite runs one transaction at a time, so only a server shows whether the table lock holds.
describe.if(serverUrl !== undefined)('auth routes on a PostgreSQL server', () => {
  const t = useTestApp({ on: 'postgres' })

  const setup = (username: string) =>
    t.app.request('/api/auth/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'long enough' }),
    })
  const userNames = async () => (await t.db.selectFrom('users').select('username').orderBy('id').execute()).map((u) => u.username)

  test('concurrent setups create exactly one user', async () => {
    await t.db.deleteFrom('users').execute()
    const statuses = (await Promise.all(['first', 'second', 'third'].map(setup))).map((r) => r.status).sort()
    expect(statuses).toEqual([201, 409, 409])
    expect(await userNames()).toHaveLength(1)
  })

  test('setups wait for a transaction that is inserting a user, then refuse', async () => {
    await t.db.deleteFrom('users').execute()
    const inserted = Promise.withResolvers<void>()
    const commit = Promise.withResolvers<void>()
    const inserting = t.db.transaction().execute(async (trx) => {
      await trx.insertInto('users').values({ username: 'early', password_hash: 'h' }).execute()
      inserted.resolve()
      await commit.promise
    })
    await inserted.promise
    const setups = Promise.all(['first', 'second'].map(setup))
    await untilLocksWait(t.db, 2, setups)
    commit.resolve()
    await inserting
    expect((await setups).map((r) => r.status)).toEqual([409, 409])
    expect(await userNames()).toEqual(['early'])
  })
})
