import { OpenAPIHono } from '@hono/zod-openapi'
import type { ZodError } from 'zod'
import { ValidationError } from '../errors'
import { acceptBody, type BodyRule, JSON_BODY } from './middleware/body'

export interface AuthContext {
  userId: number
  /** How the request proved who it is; key management needs a session. */
  via: 'session' | 'apiKey'
}

export interface AppEnv {
  /** clientAddress: see middleware/client-address.ts ('' when unknown). */
  Variables: { requestId: string; auth: AuthContext; clientAddress: string }
}

/**
 * Turns a zod failure into the one ValidationError shape, with a path per bad field. Body
 * fields go by their own path (`name`, `items.2.itemId`), as in errors the services raise;
 * the body as a whole is `body`; query and path parameters keep their prefix (`query.q`).
 */
export function validationErrorFrom(error: ZodError, target: string): ValidationError {
  const pathOf = (segments: PropertyKey[]) => (target === 'json' ? segments : [target, ...segments]).map(String).join('.') || 'body'
  return new ValidationError(
    `invalid ${target === 'json' ? 'body' : target}`,
    error.issues.flatMap((i) =>
      // An unknown key is reported on its object; name each key so the client sees which field is wrong.
      i.code === 'unrecognized_keys'
        ? i.keys.map((key) => ({ path: pathOf([...i.path, key]), message: 'unknown field' }))
        : [{ path: pathOf(i.path), message: i.message }],
    ),
  )
}

/**
 * Every route file builds its router here, so validation failures all reach app.onError. The
 * router's routes accept request bodies as `body` says (null: the app, which leaves bodies to its routers).
 */
export function createRouter(body: BodyRule | null = JSON_BODY): OpenAPIHono<AppEnv> {
  const router = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationErrorFrom(result.error, result.target)
    },
  })
  if (body) router.use(acceptBody(body))
  return router
}
