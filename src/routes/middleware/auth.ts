import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { ForbiddenError, UnauthorizedError } from '../../errors'
import type { AuthService } from '../../services/auth-service'
import type { AppEnv } from '../router'

export const SESSION_COOKIE = 'gearbox_session'

/**
 * The session cookie's attributes: one set, so clearing it matches setting it. HttpOnly,
 * SameSite=Lax, Path=/, and Secure (RFC 6265 section 4.1.2.5) when the request came over https:
 * its own URL, a proxy's `X-Forwarded-Proto: https`, or `publicUrl` (GEARBOX_URL, the
 * OAuth issuer) being https, for a proxy that terminates TLS and says nothing.
 */
export function sessionCookieOptions(c: Context<AppEnv>, publicUrl: string) {
  // Behind a TLS-terminating proxy the app sees http, so the proxy's header counts too.
  const https =
    forwarded(c, 'x-forwarded-proto')?.toLowerCase() === 'https' || new URL(c.req.url).protocol === 'https:' || URL.parse(publicUrl)?.protocol === 'https:'
  return { httpOnly: true, sameSite: 'Lax', path: '/', secure: https } as const
}

/** The first value of an X-Forwarded-* header (proxies append theirs). */
const forwarded = (c: Context<AppEnv>, header: string) => c.req.header(header)?.split(',')[0]?.trim()

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Lets a request through with a valid `Authorization: Bearer <api key>` (RFC 6750 section 2.1;
 * the scheme is case-insensitive, RFC 9110 section 11.1) or session cookie and records who it is
 * in `c.get('auth')`; anything else throws UnauthorizedError (401). An Authorization header of
 * another scheme is not ours: a browser behind a proxy with HTTP Basic auth sends one on every
 * request, so it is ignored and the cookie decides. Cookie requests that change something must
 * come from this origin, else ForbiddenError (403) (a key in a header is never sent by a browser
 * on its own, so key requests skip that); each router's acceptBody() checks their body's type.
 */
export function requireAuth(auth: AuthService): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const key = bearerToken(c.req.header('authorization'))
    if (key !== undefined) {
      // A client that sends a key means the key: a bad one is a 401 even beside a valid cookie,
      // never a silent fallback to the session (which would hide a revoked or mistyped key).
      const who = key ? await auth.authenticateApiKey(key) : undefined
      if (!who) throw new UnauthorizedError('invalid API key')
      c.set('auth', { userId: who.userId, via: 'apiKey' })
      return next()
    }
    const token = getCookie(c, SESSION_COOKIE)
    const who = token ? await auth.authenticateSession(token) : undefined
    if (!who) throw new UnauthorizedError('not signed in')
    if (UNSAFE_METHODS.has(c.req.method)) checkOrigin(c)
    c.set('auth', { userId: who.userId, via: 'session' })
    return next()
  }
}

const BEARER_SCHEME = /^bearer(?: |$)/i
// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token.
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i

/**
 * The token of an `Authorization: Bearer <token>` header (RFC 6750 section 2.1; the scheme is
 * case-insensitive, RFC 9110 section 11.1): undefined when the header is absent or of another
 * scheme, null when it is Bearer but its credentials are not exactly one token (empty, or
 * followed by more), which is never a valid token.
 */
export function bearerToken(header: string | undefined): string | null | undefined {
  if (header === undefined || !BEARER_SCHEME.test(header)) return undefined
  return BEARER_CREDENTIALS.exec(header)?.[1] ?? null
}

/** For routes only a signed-in browser may use (key management): a key is not enough. */
export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.get('auth')?.via !== 'session') throw new ForbiddenError('this needs a signed-in session, not an API key')
  return next()
}

/** Sign-in routes have no session yet, but a foreign page must not post to them either. */
export const rejectForeignOrigin: MiddlewareHandler<AppEnv> = async (c, next) => {
  checkOrigin(c)
  return next()
}

/**
 * For sign-out, which a stranger may call: a request that carries the session cookie (valid or
 * not) changes something, so like any cookie request it must come from this origin, else
 * ForbiddenError (403); without the cookie there is nothing to protect.
 */
export const rejectForeignOriginWithCookie: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (getCookie(c, SESSION_COOKIE) !== undefined) checkOrigin(c)
  return next()
}

function checkOrigin(c: Context<AppEnv>) {
  const origin = c.req.header('origin')
  if (origin === undefined) return
  // A page on another site cannot set X-Forwarded-Host (custom headers need CORS), so a
  // proxy's value is safe to trust here and keeps same-origin requests working behind it.
  const host = forwarded(c, 'x-forwarded-host') || c.req.header('host') || new URL(c.req.url).host
  let originHost: string | undefined
  try {
    originHost = new URL(origin).host
  } catch {
    // "null" (sandboxed frames, some redirects) and garbage are foreign by definition.
  }
  if (originHost?.toLowerCase() !== host.toLowerCase()) throw new ForbiddenError('cross-origin request refused')
}
