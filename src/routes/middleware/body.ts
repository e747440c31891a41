import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { ForbiddenError, PayloadTooLargeError, ValidationError } from '../../errors'
import type { AppEnv } from '../router'
import { hasBody, mediaType, type PathFilter, strictJsonBody } from './json-body'

/** What a router's routes accept as a request body: one media type, at most `maxBytes` bytes. */
export interface BodyRule {
  mediaType: 'application/json' | 'multipart/form-data'
  maxBytes: number
  /** The 413 message. */
  tooLarge: string
  /** JSON: false when the handler checks the strings it takes (see strictJsonBody). */
  checkStrings?: boolean
  /** JSON: true when the handler reads the body from `c.req.raw` rather than through Hono (see strictJsonBody). */
  rawRequest?: boolean
  /** JSON: objects whose duplicate keys the handler checks (see strictJsonBody). */
  keysLeftAt?: PathFilter
}

const MAX_JSON_BODY_BYTES = 1024 * 1024

export const JSON_BODY: BodyRule = {
  mediaType: 'application/json',
  maxBytes: MAX_JSON_BODY_BYTES,
  tooLarge: `request body is larger than ${MAX_JSON_BODY_BYTES} bytes`,
}

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Enforces `rule`: a larger body is a 413, and a JSON body must pass strictJsonBody. A signed-in browser's (session's) body must also be
 * of the rule's media type (`+json` types count as JSON), else 403: a foreign page can post a
 * form or text without CORS, never JSON, and requireAuth has already checked the Origin.
 */
export function acceptBody(rule: BodyRule): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: rule.maxBytes,
    onError: () => {
      throw new PayloadTooLargeError(rule.tooLarge)
    },
  })
  const json =
    rule.mediaType === 'application/json'
      ? strictJsonBody({ strings: rule.checkStrings ?? true, raw: rule.rawRequest, keysLeftAt: rule.keysLeftAt })
      : undefined
  return (c, next) => {
    // A GET or HEAD request carries no body the app can read (a fetch Request cannot have one):
    // nothing to check, and reading c.req.raw.body would make the node:http adapter build a
    // whole Request for every read.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    if (c.get('auth')?.via === 'session' && UNSAFE_METHODS.has(c.req.method) && hasBody(c) && !accepts(rule, c.req.header('content-type'))) {
      throw new ForbiddenError(`requests with a body must be ${rule.mediaType}`)
    }
    const then = json ? async () => void (await json(c, next)) : next
    // A declared length is checked here: Hono's bodyLimit reads c.req.raw.body first, which
    // makes the node:http adapter build a whole second Request per request. node:http reads
    // exactly that many bytes. A chunked body (or a Request without the header) goes to bodyLimit,
    // which counts the bytes as they come.
    const length = c.req.header('content-length')
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return limit(c, then)
    if (Number(length) > rule.maxBytes) throw new PayloadTooLargeError(rule.tooLarge)
    return then()
  }
}

/**
 * The `middleware` of a route that declares no request body (createRoute's `request.body`): a
 * request that carries one (hasBody; Content-Length: 0 and an empty chunked body are none) is a 400 before anything is
 * looked up or changed, as an unknown body key is (api.md), rather than silently ignored.
 * Runs after the router's acceptBody, so a body too large is still a 413.
 */
export const takesNoBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  // A chunked body may still be empty (only its last chunk): read to tell, as Content-Length
  // would. A GET's or HEAD's body never reaches the Request (the adapter drops it): headers decide.
  const headersDecide = c.req.header('content-length') !== undefined || c.req.method === 'GET' || c.req.method === 'HEAD'
  const sent = hasBody(c) && (headersDecide || (await c.req.arrayBuffer()).byteLength > 0)
  if (sent) throw new ValidationError('invalid body', [{ path: 'body', message: 'this endpoint takes no body' }])
  return next()
}

function accepts(rule: BodyRule, contentType: string | undefined): boolean {
  const type = mediaType(contentType)
  if (rule.mediaType === 'application/json') return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type)
  return type === rule.mediaType
}
