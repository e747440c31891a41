// PLACEHOLDER: replaced by the real middleware.
import type { MiddlewareHandler } from 'hono'
import type { AuthService } from '../../services/auth-service'
import type { AppEnv } from '../router'

export function requireAuth(_auth: AuthService): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    await next()
  }
}
