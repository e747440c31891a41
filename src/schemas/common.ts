import { z } from '@hono/zod-openapi'
import { MAX_PAGE_LIMIT, maxCursorLength } from '../repositories/paging'

/** The largest PostgreSQL integer; ids, cents and quantities must fit in it. */
export const MAX_INT4 = 2_147_483_647

/**
 * Upper bounds on what one item or candidate may hold, far above any real piece of gear, so
 * that every total stays an exact integer below 2^53 (JSON numbers are doubles): even
 * 1,000,000 rows at the maxima total 9e15 cents (9,000,000 x 1,000 each) and 1e15 grams.
 * The migration 20261130220100_add_gear_bounds enforces the same numbers in the schema.
 */
export const MAX_WEIGHT_GRAMS = 1_000_000
export const MAX_PRICE_CENTS = 9_000_000
export const MAX_QUANTITY = 1_000

/** The longest name of an item, candidate, thread or setup, in characters (code points). */
export const MAX_NAME_LENGTH = 200

/**
 * The most UTF-8 bytes of a name (or other indexed text) the database may hold: the API takes
 * at most MAX_NAME_LENGTH characters, but the SQLite import keeps longer names of the old app
 * up to this bound (see the import's legacy schema), and every paging cursor must fit them.
 * A B-tree index entry holds at most about 2,700 bytes (PostgreSQL's BTMaxItemSize, a third of
 * an 8 kB page), and the list-order indexes hold a name twice (`lower(name), name, id`).
 */
export const MAX_INDEXED_TEXT_BYTES = 1000

/** A name as given (not trimmed), 1..max characters, and not only whitespace. */
export const nameString = (max: number) =>
  z
    .string()
    .min(1, { abort: true })
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank')

/**
 * A PATCH body's schema that also refuses an empty body, which changes nothing and is likely a
 * mistake; only when nothing else is wrong (a body of one misspelled key is an unknown field,
 * not also an empty body). The document says so with `minProperties: 1` (a refinement is invisible to it).
 */
export const someFieldRequired = <T extends z.ZodType<object>>(schema: T) =>
  schema
    .refine((body) => Object.keys(body).length > 0, { message: 'at least one field is required', when: (payload) => payload.issues.length === 0 })
    .openapi({ minProperties: 1 })

/** A path id: a positive integer that fits PostgreSQL's integer; anything else is a 400. */
export const idParam = (name: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().max(MAX_INT4, 'is too large'))
    .openapi({ param: { name, in: 'path' }, example: 1, type: 'integer', minimum: 1, maximum: MAX_INT4 })

export const IdParams = z.object({ id: idParam('id') })

export const ErrorCode = z.enum([
  'validation_failed',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'payload_too_large',
  'too_many_requests',
  'unavailable',
  'internal',
])

export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error')

export const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } })

/** The `Retry-After` header (RFC 9110 section 10.2.3) of a 503 or 429: whole seconds to wait. */
export const retryAfterHeader = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } },
} as const

/** A 503 (the database is down, busy or read-only), which always says when to try again. */
export const unavailableResponse = (description = 'Database unavailable') => ({ ...errorResponse(description), headers: retryAfterHeader })

/** The error responses every authenticated route may give; spread into a route's `responses`. */
export const errorResponses = {
  400: errorResponse('Invalid input; details name each bad field'),
  401: errorResponse('Not signed in'),
  404: errorResponse('Not found'),
  409: errorResponse('Conflict'),
  503: unavailableResponse(),
} as const

/**
 * The error responses of a route that may change something (POST, PUT, PATCH, DELETE): those of
 * errorResponses, a 403 for a session cookie sent from a foreign Origin or with a body that is
 * not the route's media type (requireAuth, acceptBody), and a 413 for a body over the router's
 * limit (acceptBody checks it before the route, so a route that takes no body answers it too).
 */
export const writeErrorResponses = {
  ...errorResponses,
  403: errorResponse('Not allowed: a session cookie sent from a foreign Origin or with a body of another media type'),
  413: errorResponse('The body is larger than the limit (JSON bodies: 1 MiB)'),
} as const

/** A JSON request body that must be present and JSON. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

/** Timestamps leave the API as ISO-8601 strings in UTC. */
export const Timestamp = z.string().datetime().openapi({ example: '2026-01-01T00:00:00.000Z' })

/**
 * `limit` and `cursor`, which every list endpoint takes (api.md's Conventions): with `limit`
 * (1-1000) one page and, while more remain, a `Link: <url>; rel="next"` header (RFC 8288);
 * without it the whole list. Spread into a list's query schema.
 */
export const pageQuery = {
  limit: z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`)
    .transform(Number)
    .pipe(z.number().max(MAX_PAGE_LIMIT, `must be a whole number from 1 to ${MAX_PAGE_LIMIT}`))
    .optional()
    .openapi({
      param: { name: 'limit', in: 'query' },
      type: 'integer',
      minimum: 1,
      maximum: MAX_PAGE_LIMIT,
      example: 100,
      description: `At most this many entries (1-${MAX_PAGE_LIMIT})`,
    }),
  cursor: z
    .string()
    .min(1)
    // A name sorts the lists that page by name: the longest one stored, not only the longest the API takes.
    .max(maxCursorLength(MAX_INDEXED_TEXT_BYTES))
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: 'Where the page starts: the opaque value from the previous page’s `Link: rel="next"`' }),
}

export const PageQuery = z.object(pageQuery)

/** A list's 200 response: a JSON array, with the next page's `Link` header when paging. */
export const listResponse = <T extends z.ZodType>(entry: T, description: string) => ({
  ...jsonResponse(z.array(entry), description),
  headers: z.object({
    Link: z.string().optional().openapi({ description: 'With `limit`, while more entries remain: `<url>; rel="next"` (RFC 8288), the next page' }),
  }),
})
