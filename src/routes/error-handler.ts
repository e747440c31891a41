import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  NotFoundError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '../errors'
import type { AppEnv } from './router'

type Code = 'validation_failed' | 'not_found' | 'conflict' | 'unauthorized' | 'forbidden' | 'payload_too_large' | 'too_many_requests' | 'unavailable' | 'internal'

const domainStatus: [new (...a: never[]) => DomainError, ContentfulStatusCode, Code][] = [
  [ValidationError, 400, 'validation_failed'],
  [UnauthorizedError, 401, 'unauthorized'],
  [ForbiddenError, 403, 'forbidden'],
  [NotFoundError, 404, 'not_found'],
  [ConflictError, 409, 'conflict'],
  [PayloadTooLargeError, 413, 'payload_too_large'],
  [TooManyRequestsError, 429, 'too_many_requests'],
  [UnavailableError, 503, 'unavailable'],
]

export function errorBody(code: Code, message: string, details?: { path: string; message: string }[]) {
  return { error: { code, message, ...(details ? { details } : {}) } }
}

/** The one place that answers errors. Unexpected ones are logged with the request id, never shown. */
export function handleError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof DomainError) {
    const [, status, code] = domainStatus.find(([type]) => error instanceof type) ?? [DomainError, 500, 'internal']
    if (error instanceof UnavailableError) c.header('Retry-After', '5')
    if (error instanceof TooManyRequestsError) c.header('Retry-After', String(error.retryAfterSeconds))
    const details = error instanceof ValidationError || error instanceof UnavailableError ? error.details : []
    
    if (status !== 500) return c.json(errorBody(code, error.message, details.length ? details : undefined), status)
  }
  if (error instanceof HTTPException && error.status < 500) {
    if (error.status === 413) return c.json(errorBody('payload_too_large', 'request body is too large'), 413)
    if (error.status === 401) return c.json(errorBody('unauthorized', 'not signed in'), 401)
    // Hono's own 400s: malformed JSON, a body that is not JSON.
    return c.json(errorBody('validation_failed', error.message || 'invalid request'), 400)
  }
  console.error(`[${c.get('requestId')}] unhandled error`, error)
  return c.json(errorBody('internal', `internal error (request ${c.get('requestId')})`), 500)
}
