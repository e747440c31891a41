import { describe, expect, test } from 'bun:test'
import { auth, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { sha256, useTestApp } from '../support/app'
import { approveInBrowser, cookieFrom, MemoryOAuthProvider, pkce, readForm, REDIRECT_URI, submitForm } from '../support/oauth'

describe('OAuth 2.1 for /mcp, end to end on a listening server', () => {
  const t = useTestApp({ serve: true })
  const mcpUrl = () => new URL(`${t.url}/mcp`)

  /** POSTs a form to the token (or another OAuth) endpoint. */
  const form = async (path: string, fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams()
    for (const [key, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(key, v)
    const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined }
  }

  const register = async (metadata: object = { client_name: 'Test assistant', redirect_uris: [REDIRECT_URI] }) => {
    const res = await fetch(`${t.url}/oauth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metadata) })
    return { status: res.status, headers: res.headers, body: await res.json() }
  }

  /** The authorize URL for a registered client, with PKCE S256 unless `params` overrides it. */
  const authorizeUrl = (clientId: string, challenge: string, params: Record<string, string | undefined> = {}) => {
    const url = new URL(`${t.url}/oauth/authorize`)
    const all = { response_type: 'code', client_id: clientId, redirect_uri: REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state: 's1', resource: `${t.url}/mcp`, ...params }
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

  const redeem = (code: { clientId: string; verifier: string; code: string }, extra: Record<string, string> = {}) =>
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
    expect(revoked.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${t.url}/.well-known/oauth-protected-resource/mcp", error="invalid_token"`,
    )
    expect((await form('/oauth/token', { grant_type: 'refresh_token', refresh_token: second.refresh_token!, client_id: provider.info!.client_id })).body).toMatchObject({
      error: 'invalid_grant',
    })
  })
})
