import { createRoute } from '@hono/zod-openapi'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { forbiddenResponse, LoginBody, SetupBody, sessionCookieHeader, tooManyRequestsResponse, UserResponse } from '../schemas/auth'
import { errorResponses, jsonBody, jsonResponse, writeErrorResponses } from '../schemas/common'
import type { Services } from '../services'
import { SESSION_TTL_SECONDS } from '../services/auth-service'
import { rejectForeignOrigin, rejectForeignOriginWithCookie, requireAuth, SESSION_COOKIE, sessionCookieOptions } from './middleware/auth'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['auth']
const security: Record<string, string[]>[] = [{ session: [] }, { apiKey: [] }]

const setup = createRoute({
  method: 'post',
  path: '/setup',
  tags,
  summary: 'Create the owner account; only while no user exists (else 409)',
  security: [],
  middleware: rejectForeignOrigin,
  request: { body: jsonBody(SetupBody) },
  responses: { 201: jsonResponse(UserResponse, 'The new user'), ...writeErrorResponses, 403: forbiddenResponse },
})

const login = createRoute({
  method: 'post',
  path: '/login',
  tags,
  summary: 'Sign in: sets the gearbox_session cookie (HttpOnly, SameSite=Lax, Secure on https)',
  security: [],
  description:
    'Wrong credentials are a 401. After GEARBOX_LOGIN_MAX_ATTEMPTS attempts (default 5) for one username from one client address within GEARBOX_LOGIN_WINDOW_S (default 15 minutes), 429 with Retry-After until that window ends; other addresses are not affected. The client address is the socket peer, or with GEARBOX_TRUST_PROXY the last X-Forwarded-For entry.',
  middleware: rejectForeignOrigin,
  request: { body: jsonBody(LoginBody) },
  responses: {
    200: {
      ...jsonResponse(UserResponse, 'Signed in'),
      headers: sessionCookieHeader(
        `The session cookie: gearbox_session=<token>; Max-Age=${SESSION_TTL_SECONDS}; Path=/; HttpOnly; SameSite=Lax (and Secure on https)`,
      ),
    },
    ...writeErrorResponses,
    403: forbiddenResponse,
    429: tooManyRequestsResponse,
  },
})

const logout = createRoute({
  method: 'post',
  path: '/logout',
  tags,
  summary: 'Sign out: ends the session the cookie names and clears the cookie',
  description:
    'Always 204 with the cookie cleared (Set-Cookie with Max-Age=0), also for an expired or unknown session cookie or none, so a browser can always sign out. ' +
    'With the cookie, a foreign Origin is a 403, as for every cookie request that changes something.',
  security: [],
  middleware: [rejectForeignOriginWithCookie, takesNoBody],
  request: {},
  responses: {
    204: { description: 'Signed out', headers: sessionCookieHeader('Clears the session cookie: gearbox_session=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax') },
    ...writeErrorResponses,
    403: forbiddenResponse,
  },
})

const me = createRoute({
  method: 'get',
  path: '/me',
  tags,
  summary: 'Who is signed in',
  security,
  request: {},
  responses: { 200: jsonResponse(UserResponse, 'The current user'), ...errorResponses },
})

export function authRoutes(services: Services) {
  const auth = services.auth
  const publicUrl = services.oauth.issuer
  const signedIn = requireAuth(auth)
  return createRouter()
    .openapi(setup, async (c) => {
      const { username, password } = c.req.valid('json')
      return c.json({ user: await auth.setup(username, password) }, 201)
    })
    .openapi(login, async (c) => {
      const { username, password } = c.req.valid('json')
      const { user, token } = await auth.login(username, password, c.get('clientAddress'))
      setCookie(c, SESSION_COOKIE, token, { ...sessionCookieOptions(c, publicUrl), maxAge: SESSION_TTL_SECONDS })
      return c.json({ user }, 200)
    })
    .openapi(logout, async (c) => {
      // No requireAuth: a session that expired or was deleted must still be able to clear its cookie.
      const token = getCookie(c, SESSION_COOKIE)
      if (token) await auth.logout(token)
      deleteCookie(c, SESSION_COOKIE, sessionCookieOptions(c, publicUrl))
      return c.body(null, 204)
    })
    .openapi({ ...me, middleware: [signedIn, takesNoBody] }, async (c) => c.json({ user: await auth.currentUser(c.get('auth').userId) }, 200))
}
