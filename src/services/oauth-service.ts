import { createHash, timingSafeEqual } from 'node:crypto'
import { DomainError, OAuthError } from '../errors'
import type { Repositories, Store } from '../repositories'
import type { OAuthClient } from '../repositories/oauth-repository'
import { type Authenticated, randomToken, sha256Hex } from './auth-service'

/** The one scope GearBox grants: read and change the inventory. */
export const OAUTH_SCOPE = 'gear'
export const CODE_TTL_SECONDS = 10 * 60
export const ACCESS_TOKEN_TTL_SECONDS = 60 * 60
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60
/** A registration no code or token has used is deleted after this long (a real client authorizes right away). */
export const UNUSED_CLIENT_SECONDS = 60 * 60
/** Registrations that may wait unused at once; a new one beyond them pushes out the oldest. */
export const MAX_UNUSED_CLIENTS = 100

/** RFC 7591 registration input (public clients): what GearBox reads; other metadata is ignored. */
export interface ClientRegistration {
  redirectUris: string[]
  clientName?: string
}

/** A checked authorization request (RFC 6749 section 4.1.1 with PKCE and RFC 8707). */
export interface AuthorizationRequest {
  clientId: string
  redirectUri: string
  codeChallenge: string
  state: string | undefined
  scope: string
  resource: string | null
}

/** The token endpoint's success body (RFC 6749 section 5.1). */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token: string
  scope: string
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])
// RFC 7636 section 4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/
// RFC 7636 section 4.1: code-verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/

/**
 * RFC 6749 section 5.2 `invalid_client`: the token request names no registered client (never
 * registered, or pruned). The token route answers it with HTTP 401 in OAuth's error shape, so
 * a client registers again instead of retrying a grant that cannot work.
 */
export class InvalidClientError extends DomainError {}

/** RFC 7636 section 4.6, compared in constant time. */
function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** PostgreSQL text holds no NUL, so no client id does; one with a NUL names no client (and a query with it would fail). */
const mayNameClient = (clientId: string) => !clientId.includes('\0')

const isLoopback = (url: URL) => url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)

/** Why a redirect URI may not be registered, or undefined when it may (https, or http on loopback). */
function redirectUriProblem(uri: string): string | undefined {
  if (!URL.canParse(uri)) return `${uri} is not an absolute URL`
  const url = new URL(uri)
  // RFC 6749 section 3.1.2: no fragment component, an empty one (a bare `#`, which url.hash does not show) included.
  if (uri.includes('#')) return `${uri} must not have a fragment`
  if (url.protocol !== 'https:' && !isLoopback(url)) return `${uri} must use https, or http on a loopback host`
  return undefined
}

/** RFC 8252 section 7.3: a loopback redirect matches a registered one in everything but the port. */
function redirectUriRegistered(client: OAuthClient, uri: string): boolean {
  if (client.redirectUris.includes(uri)) return true
  if (!URL.canParse(uri)) return false
  const asked = new URL(uri)
  if (!isLoopback(asked)) return false
  return client.redirectUris.some((registered) => {
    const url = new URL(registered)
    url.port = asked.port
    return isLoopback(url) && url.href === asked.href
  })
}

/**
 * GearBox's OAuth 2.1 authorization server for its MCP resource: registration (RFC 7591),
 * codes with PKCE S256 (RFC 7636), refresh rotation with replay detection (OAuth 2.1 section
 * 4.3.1), revocation (RFC 7009) and resource indicators (RFC 8707). Codes and tokens are stored
 * as SHA-256 hashes and looked up by hash, so a lookup's timing says nothing about a secret.
 */
export class OAuthService {
  /** `issuer` is GEARBOX_URL; the protected resource is `<issuer>/mcp`. */
  constructor(
    private readonly store: Store,
    readonly issuer: string,
  ) {}

  get resource(): string {
    return `${this.issuer}/mcp`
  }

  /**
   * Dynamic client registration (RFC 7591 section 3). Anyone may register, so registrations
   * that nothing used within UNUSED_CLIENT_SECONDS are deleted, and at most MAX_UNUSED_CLIENTS
   * wait unused: a new one pushes out the oldest. A flood cannot grow the table, nor lock the
   * owner's assistant out (refusing new registrations would, for as long as the flood's wait);
   * at worst it pushes out a registration before its first code, and the client registers
   * again (an unknown client_id is invalid_client). A registration with a code or token is
   * never pushed out. Throws OAuthError invalid_redirect_uri or invalid_client_metadata.
   */
  async register(input: ClientRegistration): Promise<OAuthClient> {
    if (input.redirectUris.length === 0) throw new OAuthError('invalid_redirect_uri', 'redirect_uris must list at least one URI')
    for (const uri of input.redirectUris) {
      const problem = redirectUriProblem(uri)
      if (problem) throw new OAuthError('invalid_redirect_uri', problem)
    }
    return this.store.write(async (repos) => {
      await repos.oauth.pruneUnusedClients(UNUSED_CLIENT_SECONDS, MAX_UNUSED_CLIENTS - 1)
      return repos.oauth.createClient({ clientId: crypto.randomUUID(), clientName: input.clientName ?? null, redirectUris: input.redirectUris })
    })
  }

  /**
   * The client, when `redirectUri` is one it registered. Undefined otherwise: then the caller
   * must not redirect anywhere (RFC 6749 section 4.1.2.1).
   */
  async clientFor(clientId: string | undefined, redirectUri: string | undefined): Promise<OAuthClient | undefined> {
    const client = clientId && mayNameClient(clientId) ? await this.store.read((repos) => repos.oauth.findClient(clientId)) : undefined
    return client && redirectUri && redirectUriRegistered(client, redirectUri) ? client : undefined
  }

  /**
   * Checks the remaining authorization parameters of a request whose client and redirect URI
   * `clientFor` accepted. Throws OAuthError (to be sent back to the redirect URI).
   */
  checkAuthorization(client: OAuthClient, params: Record<string, string | undefined>, resources: string[]): AuthorizationRequest {
    if (params.response_type !== 'code') throw new OAuthError('unsupported_response_type', 'response_type must be code')
    if (params.code_challenge_method !== 'S256' || !S256_CHALLENGE.test(params.code_challenge ?? '')) {
      throw new OAuthError('invalid_request', 'PKCE is required: code_challenge (43 base64url characters) with code_challenge_method=S256')
    }
    return {
      clientId: client.clientId,
      redirectUri: params.redirect_uri as string,
      codeChallenge: params.code_challenge as string,
      state: params.state,
      scope: this.checkScope(params.scope),
      resource: this.checkResource(resources),
    }
  }

  /** Issues a code for the approved request: 10 minutes, single use. Returns the code itself (stored hashed). */
  async issueCode(request: AuthorizationRequest, userId: number): Promise<string> {
    const code = randomToken()
    await this.store.write((repos) =>
      repos.oauth.createCode({
        codeHash: sha256Hex(code),
        clientId: request.clientId,
        userId,
        redirectUri: request.redirectUri,
        codeChallenge: request.codeChallenge,
        scope: request.scope,
        resource: request.resource,
        expiresAt: new Date(Date.now() + CODE_TTL_SECONDS * 1000),
      }),
    )
    return code
  }

  /**
   * `grant_type=authorization_code` (RFC 6749 section 4.1.3, RFC 7636 section 4.5). A missing
   * field, or a code_verifier that is not 43-128 unreserved characters (RFC 7636 section 4.1),
   * is invalid_request; a client_id no registered client has throws InvalidClientError. A wrong
   * verifier, another client's code or redirect URI, or an unknown, expired or used code is
   * invalid_grant; a code presented again also revokes every token issued from it.
   */
  async exchangeCode(params: Record<string, string | undefined>, resources: string[]): Promise<TokenResponse> {
    const { code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier } = params
    if (!code || !redirectUri || !clientId || !verifier) throw new OAuthError('invalid_request', 'code, redirect_uri, client_id and code_verifier are required')
    if (!CODE_VERIFIER.test(verifier))
      throw new OAuthError('invalid_request', 'code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_" and "~"')
    await this.requireClient(clientId)
    const resource = this.checkResource(resources)
    const codeHash = sha256Hex(code)
    // Redeemed and issued in one transaction: a second exchange of the code waits on its row until
    // the tokens exist, so the revocation below finds them. A refused exchange still uses the code up.
    const outcome = await this.store.write(async (repos): Promise<TokenResponse | OAuthError | undefined> => {
      const redeemed = await repos.oauth.redeemCode(codeHash)
      if (!redeemed) return undefined
      if (redeemed.clientId !== clientId || redeemed.redirectUri !== redirectUri)
        return new OAuthError('invalid_grant', 'the code was issued to another client or redirect_uri')
      if (!pkceMatches(verifier, redeemed.codeChallenge)) return new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge')
      if (redeemed.resource !== null && resource !== redeemed.resource)
        return new OAuthError('invalid_grant', 'resource must be the one of the authorization request')
      // Housekeeping rides on sign-ins of clients: rare, and both deletes use an index.
      await repos.oauth.deleteExpired()
      return this.issueTokens(repos, { clientId, userId: redeemed.userId, familyId: redeemed.familyId })
    })
    if (outcome instanceof OAuthError) throw outcome
    if (outcome) return outcome
    const known = await this.store.read((repos) => repos.oauth.findCode(codeHash))
    if (known?.used) await this.store.write((repos) => repos.oauth.revokeFamily(known.familyId))
    throw new OAuthError('invalid_grant', 'the code is unknown, expired or already used')
  }

  /**
   * `grant_type=refresh_token` (RFC 6749 section 6) with rotation: the presented refresh token
   * stops working. One that was already rotated away revokes its whole family (OAuth 2.1
   * section 4.3.1). Throws OAuthError, or InvalidClientError for a client_id no registered
   * client has.
   */
  async refresh(params: Record<string, string | undefined>, resources: string[]): Promise<TokenResponse> {
    const { refresh_token: refreshToken, client_id: clientId } = params
    if (!refreshToken || !clientId) throw new OAuthError('invalid_request', 'refresh_token and client_id are required')
    await this.requireClient(clientId)
    this.checkResource(resources)
    this.checkScope(params.scope)
    const hash = sha256Hex(refreshToken)
    const rotated = await this.store.write(async (repos) => {
      const old = await repos.oauth.claimRefreshToken(hash, clientId)
      return old && this.issueTokens(repos, old)
    })
    if (rotated) return rotated
    const known = await this.store.read((repos) => repos.oauth.findTokenByHash(hash))
    if (known?.revoked && known.refreshTokenHash === hash) await this.store.write((repos) => repos.oauth.revokeFamily(known.familyId))
    throw new OAuthError('invalid_grant', 'the refresh token is unknown, expired, revoked or not this client’s')
  }

  /**
   * RFC 7009: revokes the token's whole family. Unknown tokens, or another client's, change
   * nothing and are no error (section 2.2). Public clients do not authenticate here, so an
   * unknown client_id is no invalid_client either: its tokens, if any, are simply not revoked.
   */
  async revoke(token: string, clientId: string | undefined): Promise<void> {
    const found = await this.store.read((repos) => repos.oauth.findTokenByHash(sha256Hex(token)))
    if (found && (clientId === undefined || found.clientId === clientId)) await this.store.write((repos) => repos.oauth.revokeFamily(found.familyId))
  }

  /** The owner behind a live access token, or undefined. */
  async authenticateAccessToken(token: string): Promise<Authenticated | undefined> {
    const found = await this.store.read((repos) => repos.oauth.findTokenByAccessHash(sha256Hex(token)))
    return found && { userId: found.userId }
  }

  /** Throws InvalidClientError unless `clientId` names a registered client (RFC 6749 section 5.2). */
  private async requireClient(clientId: string): Promise<void> {
    const client = mayNameClient(clientId) ? await this.store.read((repos) => repos.oauth.findClient(clientId)) : undefined
    if (!client) throw new InvalidClientError('client_id names no registered client (it may have been removed); register again')
  }

  private async issueTokens(repos: Repositories, grant: { clientId: string; userId: number; familyId: string }): Promise<TokenResponse> {
    const accessToken = randomToken()
    const refreshToken = randomToken()
    const now = Date.now()
    await repos.oauth.createToken({
      accessTokenHash: sha256Hex(accessToken),
      refreshTokenHash: sha256Hex(refreshToken),
      clientId: grant.clientId,
      userId: grant.userId,
      familyId: grant.familyId,
      scope: OAUTH_SCOPE,
      expiresAt: new Date(now + ACCESS_TOKEN_TTL_SECONDS * 1000),
      refreshExpiresAt: new Date(now + REFRESH_TOKEN_TTL_SECONDS * 1000),
    })
    return { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, refresh_token: refreshToken, scope: OAUTH_SCOPE }
  }

  /** RFC 8707 section 2: every `resource` given must be this server's MCP endpoint. */
  private checkResource(resources: string[]): string | null {
    const wrong = resources.find((r) => r !== this.resource)
    if (wrong !== undefined) throw new OAuthError('invalid_target', `resource must be ${this.resource}`)
    return resources[0] ?? null
  }

  /** Absent means the one scope; anything else must name only it. */
  private checkScope(scope: string | undefined): string {
    const asked = scope?.split(' ').filter(Boolean) ?? []
    if (asked.some((s) => s !== OAUTH_SCOPE)) throw new OAuthError('invalid_scope', `the only scope is ${OAUTH_SCOPE}`)
    return OAUTH_SCOPE
  }
}
