import { describe, expect, test } from 'bun:test'
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { MAX_UNUSED_CLIENTS, UNUSED_CLIENT_SECONDS } from '../../src/services/oauth-service'
import { bodyOf, OWNER, sha256, useTestApp } from '../support/app'
import { holdTransaction, serverUrl, untilLocksWait } from '../support/database'
import { approveInBrowser, cookieFrom, MemoryOAuthProvider, pkce, REDIRECT_URI, readForm, submitForm } from '../support/oauth'

describe('OAuth 2.1 for /mcp, end to end on a listening server', () => {
  const t = useTestApp({ serve: true })
  const mcpUrl = () => new URL(`${t.url}/mcp`)

  /** POSTs a form to the token (or another OAuth) endpoint. */
  const form = async (path: string, fields: Record<string, string | string[] | undefined>) => {
    const body = new URLSearchParams()
    for (const [key, value] of Object.entries(fields)) for (const v of value === undefined ? [] : [value].flat()) body.append(key, v)
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
  }

  const register = async (metadata: object = { client_name: 'Test assistant', redirect_uris: [REDIRECT_URI] }) => {
    const res = await fetch(`${t.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) })
    return { status: res.status, headers: res.headers, body: await bodyOf(res) }
  }

  /** The authorize URL for a registered client, with PKCE S256 unless `params` overrides it. */
  const authorizeUrl = (clientId: string, challenge: string, params: Record<string, string | undefined> = {}) => {
    const url = new URL(`${t.url}/oauth/authorize`)
    const all = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 's1',
      resource: `${t.url}/mcp`,
      ...params,
    }
    for (const [key, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(key, value)
    return url
  }

  /** Registration, sign-in and consent through the pages: a code and what is needed to redeem it. */
  const obtainCode = async () => {
    const { body: client } = await register()
    const { verifier, challenge } = pkce()
    const back = await approveInBrowser(authorizeUrl(client.client_id, challenge))
    return { clientId: client.client_id as string, verifier, code: back.searchParams.get('code') as string }
  }

  const redeem = (code: { clientId: string; verifier: string; code: string }, extra: Record<string, string | string[] | undefined> = {}) =>
    form('/oauth/token', {
      grant_type: 'authorization_code',
      code: code.code,
      redirect_uri: REDIRECT_URI,
      client_id: code.clientId,
      code_verifier: code.verifier,
      resource: `${t.url}/mcp`,
      ...extra,
    })

  /** A JSON-RPC tools/list with this bearer token, as a raw request (status and headers matter). */
  const mcpWith = (token: string | undefined, headers: Record<string, string> = {}) =>
    fetch(mcpUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    })

  test('the SDK client: 401, discovery, registration, sign-in and consent pages, tokens, tools, refresh, revocation', async () => {
    const provider = new MemoryOAuthProvider()
    const client = new Client({ name: 'test', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider })
    // No token yet: the 401 sends the client through discovery and registration to the browser.
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError)
    await client.close()
    expect(provider.info?.client_id).toBeString()
    const authorizationUrl = provider.authorizationUrl as URL
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${t.url}/oauth/authorize`)
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorizationUrl.searchParams.get('resource')).toBe(`${t.url}/mcp`)

    const back = await approveInBrowser(authorizationUrl)
    expect(back.origin + back.pathname).toBe(REDIRECT_URI)
    expect(back.searchParams.get('state')).toBe('state-123')
    expect(back.searchParams.get('iss')).toBe(t.url)
    const code = back.searchParams.get('code') as string
    await transport.finishAuth(code)
    const first = provider.saved!
    expect(first).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'gear' })
    // Stored only as hashes.
    const rows = await t.db.selectFrom('oauth_tokens').select(['access_token_hash', 'refresh_token_hash']).execute()
    expect(rows).toEqual([{ access_token_hash: sha256(first.access_token), refresh_token_hash: sha256(first.refresh_token!) }])
    const codes = await t.db.selectFrom('oauth_codes').select(['code_hash', 'used']).execute()
    expect(codes).toEqual([{ code_hash: sha256(code), used: true }])

    const connected = new Client({ name: 'test', version: '1.0.0' })
    await connected.connect(new StreamableHTTPClientTransport(mcpUrl(), { authProvider: provider }))
    expect((await connected.listTools()).tools.map((tool) => tool.name)).toContain('create_item')
    const created = await connected.callTool({ name: 'create_item', arguments: { name: 'Tent', categoryId: 1, weightGrams: 1200 } })
    expect(created.isError).toBeFalsy()
    expect((await t.call('GET', '/api/items/1')).body).toEqual(created.structuredContent)
    await connected.close()

    // Refresh: a new pair; the old refresh token (and its access token) stop working.
    expect(await auth(provider, { serverUrl: mcpUrl() })).toBe('AUTHORIZED')
    const second = provider.saved!
    expect(second.access_token).not.toBe(first.access_token)
    expect(second.refresh_token).not.toBe(first.refresh_token)
    expect((await mcpWith(first.access_token)).status).toBe(401)
    expect((await mcpWith(second.access_token)).status).toBe(200)

    // Revocation: the token and its chain.
    expect((await form('/oauth/revoke', { token: second.refresh_token!, client_id: provider.info!.client_id })).status).toBe(200)
    const revoked = await mcpWith(second.access_token)
    expect(revoked.status).toBe(401)
    expect(revoked.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${t.url}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`)
    expect(
      (await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token!, client_id: provider.info!.client_id })).body,
    ).toMatchObject({
      error: 'invalid_grant',
    })
  })

  test('discovery: protected-resource metadata (both paths) and authorization-server metadata', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(`${t.url}${path}`, { headers: { origin: 'http://localhost:6274' } })
      // Browser-based MCP clients (the MCP Inspector) read the metadata cross-origin.
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(await bodyOf(res)).toEqual({
        resource: `${t.url}/mcp`,
        authorization_servers: [t.url],
        bearer_methods_supported: ['header'],
        scopes_supported: ['gear'],
        resource_name: 'GearBox',
      })
    }
    expect(await (await fetch(`${t.url}/.well-known/oauth-authorization-server`)).json()).toMatchObject({
      issuer: t.url,
      authorization_endpoint: `${t.url}/oauth/authorize`,
      token_endpoint: `${t.url}/oauth/token`,
      registration_endpoint: `${t.url}/oauth/register`,
      revocation_endpoint: `${t.url}/oauth/revoke`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      scopes_supported: ['gear'],
      authorization_response_iss_parameter_supported: true,
    })
  })

  test('registration: 201 with client_id and the accepted metadata; unknown metadata is ignored', async () => {
    const res = await register({ client_name: 'Claude', redirect_uris: ['https://claude.ai/api/mcp/auth_callback', REDIRECT_URI], logo_uri: 'https://x/y.png' })
    expect(res.status).toBe(201)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.body).toEqual({
      client_id: expect.any(String),
      client_id_issued_at: expect.any(Number),
      client_name: 'Claude',
      redirect_uris: ['https://claude.ai/api/mcp/auth_callback', REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'gear',
    })
    expect(Math.abs(res.body.client_id_issued_at - Date.now() / 1000)).toBeLessThan(60)
  })

  test.each([
    [['http://example.com/callback'], 'must use https, or http on a loopback host'],
    [['not a url'], 'is not an absolute URL'],
    [['https://app.example/cb#x'], 'must not have a fragment'],
    [['https://app.example/cb#'], 'must not have a fragment'],
    [[], 'redirect_uris'],
    [[42], 'redirect_uris.0'],
  ])('registration: redirect_uris %p is invalid_redirect_uri', async (uris, message) => {
    const res = await register({ redirect_uris: uris })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'invalid_redirect_uri', error_description: expect.stringContaining(message) })
    expect(await t.db.selectFrom('oauth_clients').selectAll().execute()).toEqual([])
  })

  test.each([
    [{ client_name: 5 }, 'client_name'],
    [{ grant_types: ['implicit'] }, 'grant_types.0'],
    [{ response_types: ['token'] }, 'response_types.0'],
    [{ token_endpoint_auth_method: 'client_secret_basic' }, 'token_endpoint_auth_method'],
    [{ scope: 'gear admin' }, 'the only scope is gear'],
  ])('registration: %p is invalid_client_metadata', async (metadata, message) => {
    const res = await register({ redirect_uris: [REDIRECT_URI], ...metadata })
    expect(res.status).toBe(400)
    expect(res.body).toEqual({ error: 'invalid_client_metadata', error_description: expect.stringContaining(message) })
  })

  test('registration: a body that is not JSON is invalid_client_metadata', async () => {
    const res = await fetch(`${t.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
    expect(res.status).toBe(400)
    expect((await bodyOf(res)).error).toBe('invalid_client_metadata')
  })

  test.each(['text/plain', 'application/x-www-form-urlencoded', undefined])(
    'registration: JSON sent as %p is invalid_client_metadata (RFC 7591 section 3.1: application/json); nothing registered',
    async (type) => {
      const res = await fetch(`${t.url}/oauth/register`, {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: JSON.stringify({ redirect_uris: [REDIRECT_URI] }),
      })
      expect(res.status).toBe(400)
      expect(await bodyOf(res)).toEqual({ error: 'invalid_client_metadata', error_description: 'the body must be application/json' })
      expect(await t.db.selectFrom('oauth_clients').selectAll().execute()).toEqual([])
    },
  )

  test.each([
    ['{"redirect_uris":["https://app.example/c\\u0000b"]}', 'invalid_redirect_uri', 'redirect_uris.0: must not contain NUL characters'],
    ['{"redirect_uris":["https://app.example/c\\ud800b"]}', 'invalid_redirect_uri', 'redirect_uris.0: is not valid Unicode (a lone surrogate)'],
    ['{"redirect_uris":["https://app.example/cb"],"client_name":"Bot\\u0000"}', 'invalid_client_metadata', 'client_name: must not contain NUL characters'],
    [
      '{"redirect_uris":["https://app.example/cb"],"client_name":"Bot \\udc00"}',
      'invalid_client_metadata',
      'client_name: is not valid Unicode (a lone surrogate)',
    ],
    ['{"redirect_uris":["https://app.example/cb"],"redirect_uris":["https://evil.example/cb"]}', 'invalid_redirect_uri', 'redirect_uris: duplicate key'],
    [
      `{"redirect_uris":["https://app.example/cb"],"client_name":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
      'invalid_client_metadata',
      `client_name${'.0'.repeat(31)}: nests deeper than 32 levels`,
    ],
  ])('registration: %s is refused in OAuth’s shape and nothing is stored', async (body, error, description) => {
    const res = await fetch(`${t.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    expect(res.status).toBe(400)
    expect(await bodyOf(res)).toEqual({ error, error_description: description })
    expect(await t.db.selectFrom('oauth_clients').selectAll().execute()).toEqual([])
  })

  test('registration: a flood can neither grow the table nor lock new clients out; registrations nothing used expire after an hour', async () => {
    const used = await obtainCode()
    const flood: string[] = []
    for (let i = 0; i < MAX_UNUSED_CLIENTS; i++) {
      const res = await register()
      expect(res.status).toBe(201)
      flood.push(res.body.client_id)
    }
    // One more still registers: the oldest unused registration makes room, the used one stays.
    const late = await register()
    expect(late.status).toBe(201)
    const ids = (await t.db.selectFrom('oauth_clients').select('client_id').execute()).map((c) => c.client_id)
    expect(ids).not.toContain(flood[0])
    expect(ids).toEqual(expect.arrayContaining([used.clientId, late.body.client_id, ...flood.slice(1)]))
    expect(
      await t.db
        .selectFrom('oauth_clients')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ).toEqual({ n: MAX_UNUSED_CLIENTS + 1 })
    // An hour on, the unused ones go; the one that holds a code stays and keeps working.
    await t.db
      .updateTable('oauth_clients')
      .set({ created_at: new Date(Date.now() - (UNUSED_CLIENT_SECONDS + 60) * 1000) })
      .execute()
    expect((await register()).status).toBe(201)
    expect((await t.db.selectFrom('oauth_clients').select('client_id').execute()).map((c) => c.client_id)).toContain(used.clientId)
    expect(
      await t.db
        .selectFrom('oauth_clients')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ).toEqual({ n: 2 })
    expect((await redeem(used)).status).toBe(200)
  }, 60_000)

  test('authorize: an unknown client or an unregistered redirect_uri is an HTML page, never a redirect', async () => {
    const { body: client } = await register()
    const { challenge } = pkce()
    const cases = [
      authorizeUrl('no-such-client', challenge),
      authorizeUrl(client.client_id, challenge, { redirect_uri: 'https://evil.example/cb' }),
      authorizeUrl(client.client_id, challenge, { redirect_uri: 'http://127.0.0.1:53682/other' }),
      authorizeUrl(client.client_id, challenge, { redirect_uri: undefined }),
      authorizeUrl(client.client_id, challenge, { client_id: undefined }),
      authorizeUrl(`${client.client_id}\u0000`, challenge),
    ]
    for (const url of cases) {
      const res = await fetch(url, { redirect: 'manual' })
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
      expect(res.headers.get('content-type')).toStartWith('text/html')
      expect(await res.text()).toContain('Unknown client, or a redirect_uri it did not register')
    }
  })

  test('authorize: a loopback redirect_uri may differ in port only (RFC 8252)', async () => {
    const { body: client } = await register()
    const res = await fetch(authorizeUrl(client.client_id, pkce().challenge, { redirect_uri: 'http://127.0.0.1:41000/callback' }), { redirect: 'manual' })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('Sign in to GearBox')
  })

  test.each([
    [{ code_challenge: undefined }, 'invalid_request'],
    [{ code_challenge_method: undefined }, 'invalid_request'],
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge: 'short' }, 'invalid_request'],
    [{ code_challenge: `${'a'.repeat(42)}+` }, 'invalid_request'],
    [{ code_challenge: 'a'.repeat(44) }, 'invalid_request'],
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
    [{ scope: 'admin' }, 'invalid_scope'],
  ])('authorize: %p redirects back with error=%s, state and iss', async (params, error) => {
    const { body: client } = await register()
    const res = await fetch(authorizeUrl(client.client_id, pkce().challenge, params), { redirect: 'manual' })
    expect(res.status).toBe(302)
    const back = new URL(res.headers.get('location') as string)
    expect(back.origin + back.pathname).toBe(REDIRECT_URI)
    expect(back.searchParams.get('error')).toBe(error)
    expect(back.searchParams.get('state')).toBe('s1')
    expect(back.searchParams.get('iss')).toBe(t.url)
    expect(back.searchParams.get('code')).toBeNull()
  })

  test('authorize: a parameter given twice redirects back with invalid_request naming it; a repeated state is not echoed', async () => {
    const { body: client } = await register()
    for (const [name, state] of [
      ['scope', 's1'],
      ['response_type', 's1'],
      ['state', null],
    ] as const) {
      const url = authorizeUrl(client.client_id, pkce().challenge, { scope: 'gear' })
      url.searchParams.append(name, url.searchParams.get(name) as string)
      const res = await fetch(url, { redirect: 'manual' })
      expect(res.status).toBe(302)
      const back = new URL(res.headers.get('location') as string)
      expect(back.origin + back.pathname).toBe(REDIRECT_URI)
      expect(back.searchParams.get('error')).toBe('invalid_request')
      expect(back.searchParams.get('error_description')).toBe(`${name} must not be given more than once`)
      expect(back.searchParams.get('state')).toBe(state)
    }
    // Several resource parameters are RFC 8707's, not a repetition: the sign-in page.
    const url = authorizeUrl(client.client_id, pkce().challenge)
    url.searchParams.append('resource', `${t.url}/mcp`)
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(200)
  })

  test('authorize: client_id or redirect_uri given twice is the HTML error page, never a redirect (RFC 6749 section 4.1.2.1)', async () => {
    const { body: client } = await register()
    for (const name of ['client_id', 'redirect_uri']) {
      const url = authorizeUrl(client.client_id, pkce().challenge)
      url.searchParams.append(name, url.searchParams.get(name) as string)
      const res = await fetch(url, { redirect: 'manual' })
      expect(res.status).toBe(400)
      expect(res.headers.get('location')).toBeNull()
      expect(await res.text()).toContain('client_id and redirect_uri must each be given once')
    }
  })

  test('sign-in page: throttled sign-in is a 429 page with Retry-After', async () => {
    const { body: client } = await register()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    const page = await readForm(await (await fetch(url)).text())
    const attempt = () =>
      submitForm(url.href, page, [
        ['username', 'owner'],
        ['password', 'wrong password'],
      ])
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401)
    const refused = await attempt()
    expect(refused.status).toBe(429)
    expect(refused.headers.get('content-type')).toStartWith('text/html')
    const retryAfter = Number(refused.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(890)
    expect(retryAfter).toBeLessThanOrEqual(900)
  })

  test('consent: deny redirects with access_denied and issues no code', async () => {
    const { body: client } = await register()
    const back = await approveInBrowser(authorizeUrl(client.client_id, pkce().challenge), 'deny')
    expect(Object.fromEntries(back.searchParams)).toEqual({ error: 'access_denied', error_description: 'the owner denied access', state: 's1', iss: t.url })
    expect(await t.db.selectFrom('oauth_codes').selectAll().execute()).toEqual([])
  })

  test('consent page: names the client and its redirect host; one form with hidden fields and approve/deny', async () => {
    const { body: client } = await register({ client_name: 'Claude <b>', redirect_uris: [REDIRECT_URI] })
    const { cookie } = await t.signIn()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    const res = await fetch(url, { headers: { cookie } })
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    const html = await res.text()
    expect(html).toContain('Claude &lt;b&gt;')
    expect(html).toContain('127.0.0.1:53682')
    const page = await readForm(html)
    expect(page.method).toBe('post')
    expect(new URL(page.action, url).href).toBe(`${t.url}/oauth/authorize`)
    expect(Object.fromEntries(page.fields)).toEqual(Object.fromEntries(url.searchParams))
    expect(page.buttons).toEqual([
      ['decision', 'approve'],
      ['decision', 'deny'],
    ])
  })

  test('consent POST: needs a same-origin Origin and the session cookie', async () => {
    const { body: client } = await register()
    const { cookie } = await t.signIn()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    const page = await readForm(await (await fetch(url, { headers: { cookie } })).text())
    const body = new URLSearchParams([...page.fields, ['decision', 'approve']])
    const post = (headers: Record<string, string>) =>
      fetch(`${t.url}/oauth/authorize`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
        redirect: 'manual',
      })
    for (const headers of [{ cookie }, { cookie, origin: 'https://evil.example' }, { cookie, origin: 'null' }] as Record<string, string>[]) {
      const res = await post(headers)
      expect(res.status).toBe(403)
      expect(res.headers.get('location')).toBeNull()
    }
    const anonymous = await post({ origin: t.url })
    expect(anonymous.status).toBe(401)
    expect(await anonymous.text()).toContain('sign in again')
    expect(await t.db.selectFrom('oauth_codes').selectAll().execute()).toEqual([])
    expect((await post({ cookie, origin: t.url })).status).toBe(302)
  })

  test('sign-in page: a wrong password shows the page again with the error and sets no cookie', async () => {
    const { body: client } = await register()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    const page = await readForm(await (await fetch(url)).text())
    const res = await submitForm(url.href, page, [
      ['username', 'owner'],
      ['password', 'wrong password'],
    ])
    expect(res.status).toBe(401)
    expect(cookieFrom(res)).toBeUndefined()
    expect(await res.text()).toContain('wrong username or password')
  })

  test('sign-in page: a username or password the sign-in API would refuse shows the page again naming it; nothing is counted or set', async () => {
    const { body: client } = await register()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    const page = await readForm(await (await fetch(url)).text())
    const cases: [string, string, string][] = [
      ['owner\u0000', OWNER.password, 'username: must not contain NUL characters'],
      ['o'.repeat(65), OWNER.password, 'username: Too big: expected string to have &lt;=64 characters'],
      ['owner', 'p'.repeat(257), 'password: Too big: expected string to have &lt;=256 characters'],
    ]
    for (const [username, password, problem] of cases) {
      const res = await submitForm(url.href, page, [
        ['username', username],
        ['password', password],
      ])
      expect(res.status).toBe(400)
      expect(res.headers.get('content-type')).toStartWith('text/html')
      expect(cookieFrom(res)).toBeUndefined()
      expect(await res.text()).toContain(problem)
    }
    expect(await t.db.selectFrom('login_attempts').selectAll().execute()).toEqual([])
  })

  test('token: code exchange answers with no-store; the code works once', async () => {
    const code = await obtainCode()
    const res = await redeem(code)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('pragma')).toBe('no-cache')
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, refresh_token: expect.any(String), scope: 'gear' })
    expect((await mcpWith(res.body.access_token)).status).toBe(200)
  })

  test.each([
    ['a wrong verifier', { code_verifier: pkce().verifier }],
    ['another redirect_uri', { redirect_uri: 'http://127.0.0.1:53682/other' }],
    ['an unknown code', { code: 'made-up' }],
    ['no resource when the request had one', { resource: undefined }],
  ])('token: %s is invalid_grant (no-store too)', async (_, extra) => {
    const code = await obtainCode()
    const res = await redeem(code, extra)
    expect(res.status).toBe(400)
    expect(res.body.error).toBe('invalid_grant')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  test('token: a wrong resource is invalid_target; missing fields invalid_request; other grants unsupported', async () => {
    const code = await obtainCode()
    expect((await redeem(code, { resource: 'https://other.example/mcp' })).body.error).toBe('invalid_target')
    expect((await redeem(code, { code_verifier: '' })).body.error).toBe('invalid_request')
    expect((await form('/oauth/token', { grant_type: 'password', client_id: code.clientId })).body.error).toBe('unsupported_grant_type')
    const json = await fetch(`${t.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"grant_type":"authorization_code"}',
    })
    expect(json.status).toBe(400)
    expect((await bodyOf(json)).error).toBe('invalid_request')
  })

  test('token: a missing verifier is invalid_request, not a free pass', async () => {
    const code = await obtainCode()
    const { code_verifier: _, ...withoutVerifier } = {
      grant_type: 'authorization_code',
      code: code.code,
      redirect_uri: REDIRECT_URI,
      client_id: code.clientId,
      code_verifier: '',
    }
    const res = await form('/oauth/token', withoutVerifier)
    expect(res.body.error).toBe('invalid_request')
    expect((await redeem(code)).status).toBe(200)
  })

  test('token: an expired code is invalid_grant', async () => {
    const code = await obtainCode()
    await t.db
      .updateTable('oauth_codes')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .execute()
    expect((await redeem(code)).body).toEqual({ error: 'invalid_grant', error_description: 'the code is unknown, expired or already used' })
  })

  test('token: a code used twice is invalid_grant and revokes the tokens it issued', async () => {
    const code = await obtainCode()
    const first = await redeem(code)
    expect(first.status).toBe(200)
    expect((await redeem(code)).body.error).toBe('invalid_grant')
    expect((await mcpWith(first.body.access_token)).status).toBe(401)
    const refreshed = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.body.refresh_token, client_id: code.clientId })
    expect(refreshed.body.error).toBe('invalid_grant')
  })

  test('refresh: a rotated-away refresh token presented again revokes the whole chain', async () => {
    const code = await obtainCode()
    const first = (await redeem(code)).body
    const refresh = (token: string, extra: Record<string, string> = {}) =>
      form('/oauth/token', { grant_type: 'refresh_token', refresh_token: token, client_id: code.clientId, ...extra })
    const second = await refresh(first.refresh_token)
    expect(second.status).toBe(200)
    expect(second.headers.get('cache-control')).toBe('no-store')
    expect((await mcpWith(second.body.access_token)).status).toBe(200)
    expect((await refresh(first.refresh_token)).body.error).toBe('invalid_grant')
    expect((await mcpWith(second.body.access_token)).status).toBe(401)
    expect((await refresh(second.body.refresh_token)).body.error).toBe('invalid_grant')
  })

  test("refresh: another client's refresh token, or a wrong resource, changes nothing", async () => {
    const code = await obtainCode()
    const first = (await redeem(code)).body
    const { body: other } = await register()
    const stranger = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: other.client_id })
    expect(stranger).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
    const withNul = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: `${code.clientId}\u0000` })
    expect(withNul).toMatchObject({ status: 401, body: { error: 'invalid_client' } })
    const wrongTarget = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: code.clientId,
      resource: `${t.url}/api`,
    })
    expect(wrongTarget.body.error).toBe('invalid_target')
    expect((await mcpWith(first.access_token)).status).toBe(200)
    const ok = await form('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: code.clientId,
      resource: `${t.url}/mcp`,
    })
    expect(ok.status).toBe(200)
  })

  test("token: another registered client's code is invalid_grant", async () => {
    const code = await obtainCode()
    const { body: other } = await register()
    expect(await redeem(code, { client_id: other.client_id })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } })
  })

  test('token: a client_id no client has (pruned, or never registered) is invalid_client 401 for both grants, without WWW-Authenticate', async () => {
    const code = await obtainCode()
    const tokens = (await redeem(code)).body
    const again = await obtainCode()
    const unknown = { error: 'invalid_client', error_description: 'client_id names no registered client (it may have been removed); register again' }
    for (const res of [
      await redeem(again, { client_id: 'someone-else' }),
      await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'someone-else' }),
    ]) {
      expect(res).toMatchObject({ status: 401, body: unknown })
      expect(res.headers.get('www-authenticate')).toBeNull()
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
    // Nothing was used up: the code and the refresh token still work for their own client.
    expect((await redeem(again)).status).toBe(200)
    expect((await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: code.clientId })).status).toBe(200)
    // The client is removed (as the 30-day pruning does): its refresh token now answers invalid_client.
    const fresh = await obtainCode()
    const freshTokens = (await redeem(fresh)).body
    await t.db.deleteFrom('oauth_tokens').where('client_id', '=', fresh.clientId).execute()
    await t.db.deleteFrom('oauth_codes').where('client_id', '=', fresh.clientId).execute()
    await t.db.deleteFrom('oauth_clients').where('client_id', '=', fresh.clientId).execute()
    const pruned = await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: freshTokens.refresh_token, client_id: fresh.clientId })
    expect(pruned).toMatchObject({ status: 401, body: unknown })
  })

  test('revoke: an unknown client_id is still a 200 and revokes nothing (RFC 7009 section 2.2: no client authentication for public clients)', async () => {
    const code = await obtainCode()
    const tokens = (await redeem(code)).body
    const res = await form('/oauth/revoke', { token: tokens.access_token, client_id: 'someone-else' })
    expect(res.status).toBe(200)
    expect((await mcpWith(tokens.access_token)).status).toBe(200)
  })

  test.each([
    ['42 characters', 'a'.repeat(42)],
    ['129 characters', 'a'.repeat(129)],
    ['a character outside [A-Za-z0-9-._~]', `${'a'.repeat(42)}+`],
    ['a space', `${'a'.repeat(42)} b`],
  ])('token: a code_verifier of %s is invalid_request, and the code stays usable', async (_, verifier) => {
    const code = await obtainCode()
    const res = await redeem(code, { code_verifier: verifier })
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: expect.stringContaining('code_verifier') } })
    expect((await redeem(code)).status).toBe(200)
  })

  test('token: a verifier of 43 and of 128 unreserved characters is accepted syntax (a mismatch is invalid_grant)', async () => {
    for (const verifier of ['a'.repeat(43), `${'aZ09-._~'.repeat(16)}`]) {
      expect(verifier.length === 43 || verifier.length === 128).toBe(true)
      expect((await redeem(await obtainCode(), { code_verifier: verifier })).body.error).toBe('invalid_grant')
    }
  })

  test.each(['code', 'client_id', 'grant_type', 'code_verifier'])('token: %s given twice is invalid_request naming it', async (name) => {
    const code = await obtainCode()
    const fields: Record<string, string> = {
      grant_type: 'authorization_code',
      code: code.code,
      redirect_uri: REDIRECT_URI,
      client_id: code.clientId,
      code_verifier: code.verifier,
    }
    const res = await form('/oauth/token', { ...fields, [name]: [fields[name]!, fields[name]!] })
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: `${name} must not be given more than once` } })
    expect((await redeem(code)).status).toBe(200)
  })

  test('token and authorize: unknown parameters named like Object properties are ignored, not taken as repeated', async () => {
    const code = await obtainCode()
    expect((await redeem(code, { constructor: 'x', toString: 'y', ['__proto__']: 'z' })).status).toBe(200)
    const { body: client } = await register()
    const url = authorizeUrl(client.client_id, pkce().challenge)
    for (const name of ['constructor', 'hasOwnProperty', '__proto__']) url.searchParams.set(name, 'x')
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(200)
  })

  test('token: several resource parameters are not a repetition (RFC 8707)', async () => {
    const code = await obtainCode()
    expect((await redeem(code, { resource: [`${t.url}/mcp`, `${t.url}/mcp`] })).status).toBe(200)
  })

  test('revoke: a token given twice is invalid_request', async () => {
    const code = await obtainCode()
    const tokens = (await redeem(code)).body
    const res = await form('/oauth/revoke', { token: [tokens.access_token, 'other'] })
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'token must not be given more than once' } })
    expect((await mcpWith(tokens.access_token)).status).toBe(200)
  })

  test('token: no grant_type is invalid_request, not unsupported_grant_type', async () => {
    const code = await obtainCode()
    const res = await form('/oauth/token', { code: code.code, client_id: code.clientId, redirect_uri: REDIRECT_URI, code_verifier: code.verifier })
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_request', error_description: 'grant_type is required' } })
  })

  test.each(['/oauth/token', '/oauth/register', '/oauth/revoke'])('%s: a body over 64 KiB is a 413 in OAuth’s error shape', async (path) => {
    const type = path === '/oauth/register' ? 'application/json' : 'application/x-www-form-urlencoded'
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: `x=${'a'.repeat(64 * 1024)}` })
    expect(res.status).toBe(413)
    expect(await bodyOf(res)).toEqual({ error: 'invalid_request', error_description: 'request body is larger than 65536 bytes' })
  })

  test('revoke: an access token revokes its chain; unknown tokens are a 200; no token is invalid_request', async () => {
    const code = await obtainCode()
    const tokens = (await redeem(code)).body
    expect((await form('/oauth/revoke', { token: 'never-issued' })).status).toBe(200)
    expect((await form('/oauth/revoke', { token: tokens.access_token, client_id: 'someone-else' })).status).toBe(200)
    expect((await mcpWith(tokens.access_token)).status).toBe(200)
    expect((await form('/oauth/revoke', { token: tokens.access_token })).status).toBe(200)
    expect((await mcpWith(tokens.access_token)).status).toBe(401)
    expect((await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: code.clientId })).body.error).toBe(
      'invalid_grant',
    )
    expect((await form('/oauth/revoke', {})).body.error).toBe('invalid_request')
  })

  test('a code exchange deletes expired codes and dead tokens', async () => {
    const code = await obtainCode()
    const past = new Date(Date.now() - 1000)
    await t.db
      .insertInto('oauth_codes')
      .values({ code_hash: 'old', client_id: code.clientId, user_id: t.ownerId, redirect_uri: REDIRECT_URI, code_challenge: 'c', expires_at: past })
      .execute()
    await t.db
      .insertInto('oauth_tokens')
      .values({
        access_token_hash: 'old',
        refresh_token_hash: 'old-r',
        client_id: code.clientId,
        user_id: t.ownerId,
        expires_at: past,
        refresh_expires_at: past,
      })
      .execute()
    expect((await redeem(code)).status).toBe(200)
    expect(await t.db.selectFrom('oauth_codes').select('code_hash').where('code_hash', '=', 'old').execute()).toEqual([])
    expect(await t.db.selectFrom('oauth_tokens').select('access_token_hash').execute()).toHaveLength(1)
  })

  test('/mcp: no token or a bad one is a 401 naming the resource metadata; an API key works', async () => {
    const none = await mcpWith(undefined)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${t.url}/.well-known/oauth-protected-resource/mcp"`)
    expect(await bodyOf(none)).toEqual({ error: { code: 'unauthorized', message: 'an access token or API key is required' } })
    const bad = await mcpWith('not-a-token')
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"')
    const basic = await mcpWith(undefined, { authorization: 'Basic b3duZXI6cHc=' })
    expect(basic.status).toBe(401)
    const key = t.auth.authorization!.slice('Bearer '.length)
    const ok = await mcpWith(key)
    expect(ok.status).toBe(200)
    expect((await bodyOf(ok)).result.tools).toHaveLength(17)
  })

  test('/mcp: a foreign Origin is refused (DNS rebinding), the own origin is fine; GET and DELETE are 405', async () => {
    const key = t.auth.authorization!.slice('Bearer '.length)
    const rebound = await mcpWith(key, { origin: 'http://attacker.example:8080' })
    expect(rebound.status).toBe(403)
    expect((await bodyOf(rebound)).error.code).toBe('forbidden')
    expect((await mcpWith(key, { origin: t.url })).status).toBe(200)
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(mcpUrl(), { method, headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' } })
      expect(res.status).toBe(405)
      expect(res.headers.get('allow')).toBe('POST')
    }
  })

  test('/openapi.json documents the OAuth endpoints and describes /mcp', async () => {
    const doc = await bodyOf(await fetch(`${t.url}/openapi.json`))
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
      '/.well-known/oauth-authorization-server',
      '/oauth/register',
      '/oauth/authorize',
      '/oauth/token',
      '/oauth/revoke',
    ]) {
      expect(doc.paths[path]).toBeDefined()
    }
    expect(Object.keys(doc.paths['/oauth/authorize'])).toEqual(['get', 'post'])
    expect(doc.paths['/oauth/token'].post.requestBody.content['application/x-www-form-urlencoded']).toBeDefined()
    expect(doc.info.description).toContain('POST /mcp')
  })
})

// PGlite runs one transaction at a time, so only a server shows two exchanges of one code overlapping.
describe.if(serverUrl !== undefined)('OAuth code exchange on a PostgreSQL server', () => {
  const t = useTestApp({ on: 'postgres' })

  /** A registered client and a code issued to it for the owner, with the PKCE pair it was issued with. */
  async function issuedCode() {
    const client = await t.services.oauth.register({ redirectUris: [REDIRECT_URI] })
    const { verifier, challenge } = pkce()
    const request = { clientId: client.clientId, redirectUri: REDIRECT_URI, codeChallenge: challenge, state: undefined, scope: 'gear', resource: null }
    return { client, verifier, challenge, code: await t.services.oauth.issueCode(request, t.ownerId) }
  }

  test('a code presented again while its first exchange is still issuing tokens revokes those tokens too', async () => {
    const { oauth } = t.services
    const { client, verifier, challenge, code } = await issuedCode()
    const params = { code, redirect_uri: REDIRECT_URI, client_id: client.clientId, code_verifier: verifier }
    // An expired code held by another transaction: the first exchange's clean-up waits for it.
    const expired = await t.db
      .insertInto('oauth_codes')
      .values({
        code_hash: 'expired',
        client_id: client.clientId,
        user_id: t.ownerId,
        redirect_uri: REDIRECT_URI,
        code_challenge: challenge,
        expires_at: new Date(0),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    const holder = await holdTransaction(t.db, (trx) => trx.selectFrom('oauth_codes').select('id').where('id', '=', expired.id).forUpdate().execute())
    const first = oauth.exchangeCode(params, [])
    await untilLocksWait(t.db, 1, first)
    const second = oauth.exchangeCode(params, []).then(
      () => 'issued',
      (error: { code?: string }) => error.code,
    )
    await untilLocksWait(t.db, 2, second)
    await holder.end()
    const tokens = await first
    expect(await second).toBe('invalid_grant')
    expect(await oauth.authenticateAccessToken(tokens.access_token)).toBeUndefined()
    await expect(oauth.refresh({ refresh_token: tokens.refresh_token, client_id: client.clientId }, [])).rejects.toThrow()
  })

  test('revoking a token while its refresh is issuing the next pair revokes that pair too', async () => {
    const { oauth } = t.services
    const { client, verifier, code } = await issuedCode()
    const tokens = await oauth.exchangeCode({ code, redirect_uri: REDIRECT_URI, client_id: client.clientId, code_verifier: verifier }, [])
    // The client's row held by another transaction: the refresh's new token (its foreign key) waits for it.
    const holder = await holdTransaction(t.db, (trx) =>
      trx.selectFrom('oauth_clients').select('id').where('client_id', '=', client.clientId).forUpdate().execute(),
    )
    const refreshing = oauth.refresh({ refresh_token: tokens.refresh_token, client_id: client.clientId }, [])
    await untilLocksWait(t.db, 1, refreshing)
    const revoking = oauth.revoke(tokens.access_token, client.clientId)
    await untilLocksWait(t.db, 2, revoking)
    await holder.end()
    const next = await refreshing
    await revoking
    expect(await oauth.authenticateAccessToken(next.access_token)).toBeUndefined()
    await expect(oauth.refresh({ refresh_token: next.refresh_token, client_id: client.clientId }, [])).rejects.toThrow()
  })
})
