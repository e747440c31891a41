import { timingSafeEqual } from 'node:crypto'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Handler, MiddlewareHandler } from 'hono'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import { type Logger, type Metrics, observeRequests } from './observability'
import { apiKeyRoutes } from './routes/api-keys'
import { authRoutes } from './routes/auth'
import { categoryRoutes } from './routes/categories'
import { serveApiDocs } from './routes/docs'
import { errorBody, handleError } from './routes/error-handler'
import { healthRoutes } from './routes/health'
import { imageRoutes, uploadRoutes } from './routes/images'
import { itemRoutes } from './routes/items'
import { mcpRoutes } from './routes/mcp'
import { requireAuth } from './routes/middleware/auth'
import { clientAddress } from './routes/middleware/client-address'
import { utf8Query } from './routes/middleware/query'
import { oauthRoutes } from './routes/oauth'
import { type AppEnv, createRouter } from './routes/router'
import { settingRoutes } from './routes/settings'
import { setupRoutes } from './routes/setups'
import { threadRoutes } from './routes/threads'
import type { Services } from './services'

export interface AppDeps {
  services: Services
  /** GEARBOX_TRUST_PROXY: take the client address from X-Forwarded-For (see clientAddress). */
  trustProxy?: boolean
  /** Logs one line per request; none when absent (tests). */
  log?: Logger
  /** Serves GET /metrics; with a token, only to `Authorization: Bearer <token>`. */
  metrics?: { metrics: Metrics; token?: string }
}

export function createApp({ services, trustProxy = false, log, metrics }: AppDeps): OpenAPIHono<AppEnv> {
  const app = createRouter(null)
  app.use(requestId())
  if (log) app.use(observeRequests(log, metrics?.metrics))
  app.use((c, next) => {
    c.set('clientAddress', clientAddress(c, trustProxy))
    return next()
  })
  app.use(secureHeaders())
  app.use('/api/*', noStoreByDefault)
  app.onError((error, c) => handleError(error, c, log))
  app.notFound((c) => c.json(errorBody('not_found', `no route for ${c.req.method} ${c.req.path}`), 404))

  app.route('/health', healthRoutes(services))
  if (metrics) app.get('/metrics', metricsRoute(metrics))
  app.route('/api/auth', authRoutes(services))
  app.use('/api/*', requireAuth(services.auth))
  app.use('/api/*', utf8Query)
  app.route('/api/api-keys', apiKeyRoutes(services))
  app.route('/api/categories', categoryRoutes(services))
  app.route('/api/items', itemRoutes(services))
  app.route('/api/threads', threadRoutes(services))
  app.route('/api/setups', setupRoutes(services))
  app.route('/api/settings', settingRoutes(services))
  app.route('/api/images', imageRoutes(services))
  app.route('/uploads', uploadRoutes(services))
  app.route('/', oauthRoutes(services))
  app.route('/mcp', mcpRoutes(services))

  serveApiDocs(app)
  return app
}

/**
 * `Cache-Control: no-store` (RFC 9111 section 5.2.2.5) on every answer, errors included, that
 * sets no caching of its own: /api answers carry the owner's data, and a new API key's plaintext
 * once, which no browser or proxy cache may keep. A route's own Cache-Control stands.
 * Set on the answer's own headers, as secureHeaders does: `c.header` on a finished answer
 * rebuilds it around its body as a stream, which node:http then has to read back.
 */
const noStoreByDefault: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next()
  const headers = c.res.headers
  if (!headers.has('cache-control')) headers.set('Cache-Control', 'no-store')
}

/** Prometheus text exposition of `metrics.registry`; 401 without the token when one is set. */
function metricsRoute({ metrics, token }: NonNullable<AppDeps['metrics']>): Handler<AppEnv> {
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`)
  return async (c) => {
    const given = Buffer.from(c.req.header('authorization') ?? '')
    if (expected && (given.length !== expected.length || !timingSafeEqual(given, expected))) {
      return c.json(errorBody('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'), 401)
    }
    return c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType })
  }
}
