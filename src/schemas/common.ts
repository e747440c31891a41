import { z } from '@hono/zod-openapi'

/** The largest PostgreSQL integer; ids, cents and quantities must fit in it. */
export const MAX_INT4 = 2_147_483_647

/** A name as given (not trimmed), 1..max characters, and not only whitespace. */
export const nameString = (max: number) =>
  z
    .string()
    .min(1, { abort: true })
    .max(max)
    .refine((s) => s.trim().length > 0, 'must not be blank')

/** For PATCH bodies (`.refine(hasSomeField, ...)`): an empty one changes nothing and is likely a mistake. */
export const hasSomeField = (body: object) => Object.keys(body).length > 0

/** A path id: a positive integer that fits PostgreSQL's integer; anything else is a 400. */
export const idParam = (name: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,9}$/, 'must be a positive integer')
    .transform(Number)
    .pipe(z.number().max(MAX_INT4, 'is too large'))
    .openapi({ param: { name, in: 'path' }, example: 1, type: 'integer' })

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

/** The error responses every authenticated route may give; spread into a route's `responses`. */
export const errorResponses = {
  400: errorResponse('Invalid input; details name each bad field'),
  401: errorResponse('Not signed in'),
  404: errorResponse('Not found'),
  409: errorResponse('Conflict'),
  503: errorResponse('Database unavailable'),
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
