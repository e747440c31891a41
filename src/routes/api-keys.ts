import { createRoute } from '@hono/zod-openapi'
import { ApiKeySchema, CreateApiKeyBody, CreatedApiKeySchema, forbiddenResponse } from '../schemas/auth'
import { errorResponses, IdParams, jsonBody, jsonResponse, listResponse, PageQuery, writeErrorResponses } from '../schemas/common'
import type { Services } from '../services'
import { listReply } from './lists'
import { requireSession } from './middleware/auth'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['api-keys']
// Key management needs a signed-in session: a leaked key must not be able to mint more keys.
const security = [{ session: [] }]
const middleware = requireSession

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  security,
  middleware: [requireSession, takesNoBody],
  summary: 'Your API keys, oldest first (never the keys themselves)',
  request: { query: PageQuery },
  responses: { 200: listResponse(ApiKeySchema, 'API keys'), 403: forbiddenResponse, ...errorResponses },
})

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  security,
  middleware,
  summary: 'Create an API key; the plaintext `key` is in this response only',
  request: { body: jsonBody(CreateApiKeyBody) },
  responses: { 201: jsonResponse(CreatedApiKeySchema, 'Created'), ...writeErrorResponses, 403: forbiddenResponse },
})

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  security,
  middleware: [requireSession, takesNoBody],
  summary: 'Revoke an API key',
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses, 403: forbiddenResponse },
})

export function apiKeyRoutes(services: Services) {
  const auth = services.auth
  return createRouter()
    .openapi(list, (c) => listReply(c, c.req.valid('query'), (page) => auth.listApiKeysPage(c.get('auth').userId, page), services.snapshot))
    .openapi(create, async (c) => c.json(await auth.createApiKey(c.get('auth').userId, c.req.valid('json').name), 201))
    .openapi(remove, async (c) => {
      await auth.deleteApiKey(c.get('auth').userId, c.req.valid('param').id)
      return c.body(null, 204)
    })
}
