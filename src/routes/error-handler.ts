import type { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import {
  ConflictError,
  DomainError,
  type FieldProblem,
  ForbiddenError,
  NotFoundError,
  OAuthError,
  PayloadTooLargeError,
  TooManyRequestsError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '../errors'
import type { Logger } from '../observability'
import type { ErrorCode } from '../schemas/common'
import { incomingOf } from './bindings'
import type { AppEnv } from './router'

type Code = z.infer<typeof ErrorCode>

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

export function errorBody(code: Code, message: string, details?: FieldProblem[]) {
  return { error: { code, message, ...(details ? { details } : {}) } }
}

/** The status and API error body of a domain error; undefined for anything else. MCP tool errors use it too. */
export function domainErrorReply(error: Error): { status: ContentfulStatusCode; body: ReturnType<typeof errorBody> } | undefined {
  const match = error instanceof DomainError ? domainStatus.find(([type]) => error instanceof type) : undefined
  if (!match || !(error instanceof DomainError)) return undefined
  const [, status, code] = match
  return { status, body: errorBody(code, error.message, error.details.length ? error.details : undefined) }
}

/**
 * The one place that answers errors. Unexpected ones are logged with the request id, never
 * shown: through `log` as one JSON record (`unhandled error`, with `requestId` and `error`:
 * describeUnexpected's text), or on stderr when there is no logger (tests).
 */
export function handleError(error: Error, c: Context<AppEnv>, log?: Logger): Response {
  // RFC 6749 section 5.2: OAuth endpoints answer in OAuth's own error shape.
  if (error instanceof DomainError && error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds))
  if (error instanceof OAuthError) return c.json({ error: error.code, error_description: error.message }, 400)
  const reply = domainErrorReply(error)
  if (reply) return c.json(reply.body, reply.status)
  // Hono's own 400s: malformed JSON, a body that is not JSON or not the form it claims. The
  // body as a whole is what is wrong (api.md: `details` names each bad field).
  const wholeBody = (message: string) => c.json(errorBody('validation_failed', message, [{ path: 'body', message }]), 400)
  if (error instanceof HTTPException && error.status < 500) return wholeBody(error.message || 'invalid request')
  // Nobody is left to answer, and nothing went wrong here: not an unhandled error.
  if (bodyCutOff(c)) return wholeBody('the connection closed before the request body arrived')
  if (log) log.error({ requestId: c.get('requestId'), error: describeUnexpected(error) }, 'unhandled error')
  else console.error(`[${c.get('requestId')}] unhandled error: ${describeUnexpected(error)}`)
  return c.json(errorBody('internal', `internal error (request ${c.get('requestId')})`), 500)
}

/** Whether the request came over node:http and its connection closed before the whole body arrived (a client that hung up, or a 408). */
function bodyCutOff(c: Context<AppEnv>): boolean {
  const incoming = incomingOf(c)
  return incoming?.destroyed === true && !incoming.complete
}

/**
 * Name, message, SQLSTATE and stack of an unexpected error, and nothing else: driver errors
 * carry the query's parameters and PostgreSQL's `detail` (`Key (name)=(...)`), which may hold
 * a password hash, a token hash or a user's data, and must never reach the log.
 */
export function describeUnexpected(error: Error): string {
  const code = (error as { code?: unknown }).code
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '))
  return [`${error.name}: ${error.message}${typeof code === 'string' ? ` (${code})` : ''}`, ...frames].join('\n')
}
