import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie } from 'hono/cookie'
import { cors } from 'hono/cors'
import { ForbiddenError, OAuthError, PayloadTooLargeError, TooManyRequestsError, UnauthorizedError } from '../errors'
import type { OAuthClient } from '../repositories/oauth-repository'
import { LoginBody } from '../schemas/auth'
import { errorResponse, retryAfterHeader, unavailableResponse } from '../schemas/common'
import {
  AuthorizationServerMetadataSchema,
  AuthorizeQuery,
  ClientInformationSchema,
  ClientRegistrationBody,
  OAuthErrorSchema,
  ProtectedResourceMetadataSchema,
  RevocationBody,
  TokenRequestBody,
  TokenResponseSchema,
} from '../schemas/oauth'
import type { Services } from '../services'
import { SESSION_TTL_SECONDS } from '../services/auth-service'
import { InvalidClientError, OAUTH_SCOPE } from '../services/oauth-service'
import { rejectForeignOrigin, SESSION_COOKIE, sessionCookieOptions } from './middleware/auth'
import { checkJsonBody, findTextProblem, mediaType } from './middleware/json-body'
import { type AuthorizeFields, consentPage, errorPage, signInPage } from './oauth-pages'
import { type AppEnv, createRouter, validationErrorFrom } from './router'

const MAX_OAUTH_BODY_BYTES = 64 * 1024
const tags = ['oauth']
const FORM = 'application/x-www-form-urlencoded'

const oauthError = (description: string) => ({ description, content: { 'application/json': { schema: OAuthErrorSchema } } })
const json = <T>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } })
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' as const } } } })
const redirect = (description: string) => ({
  description,
  headers: { Location: { description: 'Where the browser goes next', required: true, schema: { type: 'string' as const, format: 'uri-reference' } } },
})

/** RFC 6749 section 5.1: token (and token error) responses must not be cached. */
const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  c.header('Cache-Control', 'no-store')
  c.header('Pragma', 'no-cache')
  return next()
}

const tooLarge = `request body is larger than ${MAX_OAUTH_BODY_BYTES} bytes`

/** The authorize form's limit: a 413 in GearBox's error shape, like the other pages' API calls. */
const limitBody = bodyLimit({
  maxSize: MAX_OAUTH_BODY_BYTES,
  onError: () => {
    throw new PayloadTooLargeError(tooLarge)
  },
})

/** The limit of the token, registration and revocation endpoints: still 413, in OAuth's error shape (RFC 6749 section 5.2). */
const limitOAuthBody = bodyLimit({
  maxSize: MAX_OAUTH_BODY_BYTES,
  onError: (c) => c.json({ error: 'invalid_request', error_description: tooLarge }, 413),
})

/** The consent POST: a browser always sends Origin on a form post, so a missing one is refused too. */
const requireSameOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.req.header('origin') === undefined) throw new ForbiddenError('the Origin header is required')
  return rejectForeignOrigin(c, next)
}

/** A request's parameters: the first value of each, every `resource` (RFC 8707 allows several), and the names given more than once. */
type Parameters = AuthorizeFields & { repeated: string[] }

/** Parameters of a query or form; `repeated` names every one but `resource` that appears more than once (RFC 6749 sections 3.1, 3.2). */
function parametersOf(all: URLSearchParams): Parameters {
  // No prototype: `constructor` or `__proto__` is a parameter like any other (an unknown one, ignored).
  const params: Record<string, string> = Object.create(null)
  const repeated = new Set<string>()
  for (const [key, value] of all) {
    if (!Object.hasOwn(params, key)) params[key] = value
    else if (key !== 'resource') repeated.add(key)
  }
  return { params, resources: all.getAll('resource'), repeated: [...repeated] }
}

/** An application/x-www-form-urlencoded body's parameters; throws OAuthError invalid_request for another content type. */
async function readForm(c: Context<AppEnv>): Promise<Parameters> {
  if (mediaType(c.req.header('content-type')) !== FORM) throw new OAuthError('invalid_request', `the body must be ${FORM}`)
  return parametersOf(new URLSearchParams(await c.req.text()))
}

/** A token or revocation request's parameters; a repeated one is invalid_request (RFC 6749 section 3.2). */
async function readSingleForm(c: Context<AppEnv>): Promise<AuthorizeFields> {
  const { params, resources, repeated } = await readForm(c)
  if (repeated.length > 0) throw new OAuthError('invalid_request', `${repeated.join(', ')} must not be given more than once`)
  return { params, resources }
}

/** `redirect_uri` with the answer in its query, and `iss` (RFC 9207) so the client knows who answered. */
function redirectBack(c: Context<AppEnv>, redirectUri: string, issuer: string, state: string | undefined, answer: Record<string, string>) {
  const url = new URL(redirectUri)
  for (const [key, value] of Object.entries({ ...answer, ...(state === undefined ? {} : { state }), iss: issuer })) url.searchParams.set(key, value)
  return c.redirect(url.href, 302)
}

/**
 * GearBox as an OAuth 2.1 authorization server for its MCP endpoint: metadata (RFC 8414,
 * RFC 9728), registration (RFC 7591), the authorize page, tokens and revocation (RFC 7009).
 */
export function oauthRoutes(services: Services) {
  const { oauth, auth } = services
  const issuer = oauth.issuer
  // Mounted at /: a body rule here would apply to every path. Each endpoint sets its own limit.
  const router = createRouter(null)
  const forScripts = cors({ origin: '*', allowMethods: ['GET', 'POST'], allowHeaders: ['Content-Type', 'MCP-Protocol-Version'] })

  const protectedResource = {
    resource: oauth.resource,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    scopes_supported: [OAUTH_SCOPE],
    resource_name: 'GearBox',
  }
  const authorizationServer = {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    registration_endpoint: `${issuer}/oauth/register`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [OAUTH_SCOPE],
    authorization_response_iss_parameter_supported: true,
  }

  /**
   * Sign-in form, consent page, or an error page when the client and redirect URI cannot be
   * trusted (unknown, or either given twice: RFC 6749 section 4.1.2.1); never a redirect then.
   * Any other parameter given twice goes back to the client as invalid_request (section 3.1).
   */
  async function authorizePage(c: Context<AppEnv>, { repeated, ...fields }: Parameters, show: (client: OAuthClient) => Promise<Response>): Promise<Response> {
    if (repeated.includes('client_id') || repeated.includes('redirect_uri'))
      return c.html(errorPage('client_id and redirect_uri must each be given once. Nothing was sent back to the client.'), 400)
    const client = await oauth.clientFor(fields.params.client_id, fields.params.redirect_uri)
    if (!client) return c.html(errorPage('Unknown client, or a redirect_uri it did not register. Nothing was sent back to it.'), 400)
    try {
      if (repeated.length > 0) throw new OAuthError('invalid_request', `${repeated.join(', ')} must not be given more than once`)
      oauth.checkAuthorization(client, fields.params, fields.resources)
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error
      // A repeated state is not echoed: which of them the client expects is unknown.
      const state = repeated.includes('state') ? undefined : fields.params.state
      return redirectBack(c, fields.params.redirect_uri as string, issuer, state, { error: error.code, error_description: error.message })
    }
    return show(client)
  }

  const signedIn = async (c: Context<AppEnv>) => {
    const token = getCookie(c, SESSION_COOKIE)
    return token ? auth.authenticateSession(token) : undefined
  }

  for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
    router.use(path, forScripts)
    router.get(path, (c) => c.json(protectedResource))
    router.openAPIRegistry.registerPath({
      security: [],
      method: 'get',
      path,
      tags,
      summary: 'RFC 9728 protected-resource metadata of the MCP endpoint',
      responses: { 200: json(ProtectedResourceMetadataSchema, 'The metadata') },
    })
  }

  router.use('/.well-known/oauth-authorization-server', forScripts)
  router.get('/.well-known/oauth-authorization-server', (c) => c.json(authorizationServer))
  router.openAPIRegistry.registerPath({
    security: [],
    method: 'get',
    path: '/.well-known/oauth-authorization-server',
    tags,
    summary: 'RFC 8414 authorization-server metadata',
    responses: { 200: json(AuthorizationServerMetadataSchema, 'The metadata') },
  })

  router.use('/oauth/register', forScripts, limitOAuthBody, noStore)
  router.post('/oauth/register', async (c) => {
    const metadataError = (where: string, message: string) =>
      new OAuthError(where.split('.')[0] === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', `${where}: ${message}`)
    // RFC 7591 section 3.1: the metadata is sent as application/json.
    if (mediaType(c.req.header('content-type')) !== 'application/json') {
      throw new OAuthError('invalid_client_metadata', 'the body must be application/json')
    }
    // The rules of every JSON body (UTF-8, no duplicate keys, no lone surrogate or NUL), answered in OAuth's shape.
    const bytes = new Uint8Array(await c.req.arrayBuffer())
    const problem = checkJsonBody(bytes)
    if (problem) throw metadataError(problem.path, problem.message)
    let json: unknown
    try {
      json = JSON.parse(new TextDecoder().decode(bytes))
    } catch {
      json = undefined
    }
    const body = ClientRegistrationBody.safeParse(json)
    if (!body.success) {
      const issue = body.error.issues[0]!
      throw metadataError(issue.path.join('.') || 'body', issue.message)
    }
    if (body.data.scope?.split(' ').some((s) => s && s !== OAUTH_SCOPE))
      throw new OAuthError('invalid_client_metadata', `scope: the only scope is ${OAUTH_SCOPE}`)
    const client = await oauth.register({ redirectUris: body.data.redirect_uris, clientName: body.data.client_name })
    return c.json(
      {
        client_id: client.clientId,
        client_id_issued_at: Math.floor(client.createdAt.getTime() / 1000),
        ...(client.clientName === null ? {} : { client_name: client.clientName }),
        redirect_uris: client.redirectUris,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none' as const,
        scope: OAUTH_SCOPE,
      },
      201,
    )
  })
  router.openAPIRegistry.registerPath({
    security: [],
    method: 'post',
    path: '/oauth/register',
    tags,
    summary: 'RFC 7591 dynamic client registration (public clients)',
    request: { body: { required: true, content: { 'application/json': { schema: ClientRegistrationBody } } } },
    responses: {
      201: json(ClientInformationSchema, 'Registered: client_id and the accepted metadata'),
      400: oauthError('invalid_redirect_uri or invalid_client_metadata'),
      413: oauthError('invalid_request: the body is larger than 64 KiB'),
      503: unavailableResponse(),
    },
  })

  // The pages carry the request (and, after sign-in, a session); no cache should keep them.
  router.use('/oauth/authorize', noStore)
  router.get('/oauth/authorize', (c) => {
    const fields = parametersOf(new URL(c.req.url).searchParams)
    return authorizePage(c, fields, async (client) => ((await signedIn(c)) ? c.html(consentPage(fields, client)) : c.html(signInPage(fields, client))))
  })
  router.post('/oauth/authorize', limitBody, requireSameOrigin, async (c) => {
    const fields = await readForm(c)
    const { decision, username, password } = fields.params
    return authorizePage(c, fields, async (client) => {
      if (decision === undefined) {
        // The rules of POST /api/auth/login's body; a form field can hold what JSON there may not.
        const credentials = LoginBody.safeParse({ username: username ?? '', password: password ?? '' })
        const problem = credentials.success ? findTextProblem(credentials.data) : validationErrorFrom(credentials.error, 'json').details[0]
        if (problem) return c.html(signInPage(fields, client, `${problem.path}: ${problem.message}`), 400)
        try {
          const { token } = await auth.login(username ?? '', password ?? '', c.get('clientAddress'))
          setCookie(c, SESSION_COOKIE, token, { ...sessionCookieOptions(c, issuer), maxAge: SESSION_TTL_SECONDS })
        } catch (error) {
          if (error instanceof UnauthorizedError) return c.html(signInPage(fields, client, error.message), 401)
          if (error instanceof TooManyRequestsError) {
            if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds))
            return c.html(signInPage(fields, client, error.message), 429)
          }
          throw error
        }
        // Post/redirect/get: the consent page is a fresh GET with the session cookie.
        const again = new URL('/oauth/authorize', c.req.url)
        for (const [key, value] of Object.entries(fields.params))
          if (!['username', 'password', 'resource'].includes(key)) again.searchParams.set(key, value as string)
        for (const resource of fields.resources) again.searchParams.append('resource', resource)
        return c.redirect(`${again.pathname}${again.search}`, 303)
      }
      const who = await signedIn(c)
      if (!who) return c.html(signInPage(fields, client, 'Your session has ended; sign in again.'), 401)
      const request = oauth.checkAuthorization(client, fields.params, fields.resources)
      if (decision !== 'approve')
        return redirectBack(c, request.redirectUri, issuer, request.state, { error: 'access_denied', error_description: 'the owner denied access' })
      return redirectBack(c, request.redirectUri, issuer, request.state, { code: await oauth.issueCode(request, who.userId) })
    })
  })
  for (const method of ['get', 'post'] as const) {
    router.openAPIRegistry.registerPath({
      security: [],
      method,
      path: '/oauth/authorize',
      tags,
      summary:
        method === 'get'
          ? 'Authorization page (HTML): sign-in if needed, then consent naming the client and its redirect host'
          : 'Sign-in (username, password) or the consent decision (approve | deny) from the page; needs a same-origin Origin',
      description:
        'An unknown client or unregistered redirect_uri is an HTML error page (never a redirect). Other bad parameters, and the decision, ' +
        'redirect (302) to redirect_uri with code or error, state and iss (RFC 9207). A code lives 10 minutes and works once.',
      request: method === 'get' ? { query: AuthorizeQuery } : { body: { required: true, content: { [FORM]: { schema: AuthorizeQuery } } } },
      responses: {
        200: html('The sign-in or consent page'),
        302: redirect('Back to redirect_uri with code or error, state and iss'),
        400: html(
          method === 'get'
            ? 'HTML error page: unknown client or unregistered redirect_uri'
            : 'HTML error page (unknown client or unregistered redirect_uri), or the sign-in page naming a bad username or password field',
        ),
        ...(method === 'get'
          ? {}
          : {
              303: redirect('Signed in: on to the consent page (GET /oauth/authorize with the same request)'),
              401: html('The sign-in page again: wrong credentials, or a decision without a signed-in session'),
              403: errorResponse('No Origin, or a foreign one'),
              413: errorResponse('The body is larger than 64 KiB'),
              429: { ...html('The sign-in page again: too many sign-in attempts; see Retry-After'), headers: retryAfterHeader },
            }),
        503: unavailableResponse(),
      },
    })
  }

  router.use('/oauth/token', forScripts, limitOAuthBody, noStore)
  router.post('/oauth/token', async (c) => {
    const { params, resources } = await readSingleForm(c)
    try {
      switch (params.grant_type) {
        case undefined:
          throw new OAuthError('invalid_request', 'grant_type is required')
        case 'authorization_code':
          return c.json(await oauth.exchangeCode(params, resources), 200)
        case 'refresh_token':
          return c.json(await oauth.refresh(params, resources), 200)
        default:
          throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
      }
    } catch (error) {
      // RFC 6749 section 5.2: 401, and no WWW-Authenticate, as the client sent no Authorization header.
      if (error instanceof InvalidClientError) return c.json({ error: 'invalid_client', error_description: error.message }, 401)
      throw error
    }
  })
  router.openAPIRegistry.registerPath({
    security: [],
    method: 'post',
    path: '/oauth/token',
    tags,
    summary: 'Tokens: authorization_code with PKCE (RFC 7636), or refresh_token with rotation',
    description:
      'A client_id of no registered client is invalid_client (401): register again. A missing or repeated parameter, or a code_verifier that is not ' +
      '43-128 characters of [A-Za-z0-9-._~], is invalid_request. ' +
      "A wrong verifier, another client's code or refresh token, another redirect_uri, an expired or used code, or a rotated refresh token is invalid_grant; a code used twice and a " +
      'rotated refresh token presented again revoke every token of that grant. A resource other than <GEARBOX_URL>/mcp is invalid_target. Cache-Control: no-store.',
    request: { body: { required: true, content: { [FORM]: { schema: TokenRequestBody } } } },
    responses: {
      200: json(TokenResponseSchema, 'A new access and refresh token'),
      400: oauthError('invalid_request, invalid_grant, invalid_target, invalid_scope or unsupported_grant_type'),
      401: oauthError('invalid_client: the client_id names no registered client'),
      413: oauthError('invalid_request: the body is larger than 64 KiB'),
      503: unavailableResponse(),
    },
  })

  router.use('/oauth/revoke', forScripts, limitOAuthBody, noStore)
  router.post('/oauth/revoke', async (c) => {
    const { params } = await readSingleForm(c)
    if (!params.token) throw new OAuthError('invalid_request', 'token is required')
    await oauth.revoke(params.token, params.client_id)
    return c.body(null, 200)
  })
  router.openAPIRegistry.registerPath({
    security: [],
    method: 'post',
    path: '/oauth/revoke',
    tags,
    summary: 'RFC 7009 revocation: the token and its whole refresh chain stop working; unknown tokens are a 200 too',
    request: { body: { required: true, content: { [FORM]: { schema: RevocationBody } } } },
    responses: {
      200: { description: 'Revoked (or never valid)' },
      400: oauthError('invalid_request: no token'),
      413: oauthError('invalid_request: the body is larger than 64 KiB'),
      503: unavailableResponse(),
    },
  })

  return router
}
