import { z } from '@hono/zod-openapi'
import { ErrorSchema, jsonResponse, nameString, retryAfterHeader, Timestamp } from './common'

export const MIN_PASSWORD_LENGTH = 8
// argon2 hashes any length, but a megabyte "password" is only a way to burn CPU.
export const MAX_PASSWORD_LENGTH = 256

const username = nameString(64).openapi({ example: 'owner' })

export const SetupBody = z
  .object({
    username,
    password: z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH).openapi({ example: 'correct horse battery staple' }),
  })
  .strict()
  .openapi('OwnerSetup')

// Sign-in does not re-check the password rules: it only says whether the pair is right.
export const LoginBody = z
  .object({ username: z.string().max(64), password: z.string().max(MAX_PASSWORD_LENGTH) })
  .strict()
  .openapi('Login')

export const UserSchema = z.object({ id: z.int(), username: z.string(), createdAt: Timestamp }).openapi('User')

export const UserResponse = z.object({ user: UserSchema }).openapi('UserResponse')

export const ApiKeySchema = z
  .object({
    id: z.int(),
    name: z.string(),
    prefix: z.string().openapi({ description: 'The first characters of the key, to tell keys apart', example: 'gbx_3q2-7wEa' }),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable().openapi({ description: 'Updated at most once a minute' }),
  })
  .openapi('ApiKey')

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The key itself; shown only in this response' }),
}).openapi('CreatedApiKey')

export const CreateApiKeyBody = z
  .object({ name: nameString(100).openapi({ example: 'backup script' }) })
  .strict()
  .openapi('CreateApiKey')

export const forbiddenResponse = jsonResponse(ErrorSchema, 'Not allowed: a foreign Origin, a non-JSON body, or an API key where a session is needed')
export const tooManyRequestsResponse = { ...jsonResponse(ErrorSchema, 'Too many sign-in attempts; see Retry-After'), headers: retryAfterHeader }

/** The `Set-Cookie` header of a sign-in or sign-out answer; `description` says what it sets. */
export const sessionCookieHeader = (description: string) => ({ 'Set-Cookie': { description, schema: { type: 'string' } } }) as const
