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
    error.issues.flatMap((i) =>
      // An unknown key is reported on its object; name each key so the client sees which field is wrong.
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: [target, ...i.path, key].join('.'), message: 'unknown field' }))
        : [{ path: [target, ...i.path].join('.'), message: i.message }],
    ),
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
