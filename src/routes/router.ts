import { OpenAPIHono } from '@hono/zod-openapi'
import type { ZodError } from 'zod'
import { ValidationError } from '../errors'

export interface AuthContext {
  userId: number
  /** How the request proved who it is; key management needs a session. */
  via: 'session' | 'apiKey'
}

export interface AppEnv {
  Variables: { requestId: string; auth: AuthContext }
}

/** Turns a zod failure into the one ValidationError shape, with a path per bad field. */
export function validationErrorFrom(error: ZodError, target: string): ValidationError {
  return new ValidationError(
    `invalid ${target}`,
    error.issues.map((i) => ({ path: [target, ...i.path].join('.'), message: i.message })),
  )
}

/** Every route file builds its router here, so validation failures all reach app.onError. */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationErrorFrom(result.error, result.target)
    },
  })
}
