import type { OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { PayloadTooLargeError } from './errors'
import { apiKeyRoutes } from './routes/api-keys'
import { authRoutes } from './routes/auth'
import { categoryRoutes } from './routes/categories'
import { serveApiDocs } from './routes/docs'
import { errorBody, handleError } from './routes/error-handler'
import { healthRoutes } from './routes/health'
import { imageRoutes, uploadRoutes } from './routes/images'
import { itemRoutes } from './routes/items'
import { requireAuth } from './routes/middleware/auth'
import { type AppEnv, createRouter } from './routes/router'
import { settingRoutes } from './routes/settings'
import { setupRoutes } from './routes/setups'
import { threadRoutes } from './routes/threads'
import type { Services } from './services'

export interface AppDeps {
  services: Services
}

/** JSON bodies are small; image uploads get their own, larger limit on their route. */
const MAX_JSON_BODY_BYTES = 1024 * 1024

export function createApp({ services }: AppDeps): OpenAPIHono<AppEnv> {
  const app = createRouter()
  app.use(requestId())
  app.use(secureHeaders())
  const jsonBodyLimit = bodyLimit({
    maxSize: MAX_JSON_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError(`request body is larger than ${MAX_JSON_BODY_BYTES} bytes`)
    },
  })
  // Image uploads carry their own, larger limit on their route.
  app.use('/api/*', (c, next) => (c.req.path === '/api/images' ? next() : jsonBodyLimit(c, next)))
  app.onError(handleError)
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404))

  app.route('/health', healthRoutes(services))
  app.route('/api/auth', authRoutes(services))
  app.use('/api/*', requireAuth(services.auth))
  app.route('/api/api-keys', apiKeyRoutes(services))
  app.route('/api/categories', categoryRoutes(services))
  app.route('/api/items', itemRoutes(services))
  app.route('/api/threads', threadRoutes(services))
  app.route('/api/setups', setupRoutes(services))
  app.route('/api/settings', settingRoutes(services))
  app.route('/api/images', imageRoutes(services))
  app.route('/uploads', uploadRoutes(services))

  serveApiDocs(app)
  return app
}
