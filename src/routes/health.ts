import { createRoute, z } from '@hono/zod-openapi'
import { jsonResponse, unavailableResponse } from '../schemas/common'
import type { Services } from '../services'
import { createRouter } from './router'

const Status = z.object({ status: z.literal('ok') }).openapi('HealthStatus')

const live = createRoute({
  method: 'get',
  path: '/live',
  tags: ['health'],
  summary: 'The process is running (never touches the database)',
  security: [],
  responses: { 200: jsonResponse(Status, 'Alive') },
})

const ready = createRoute({
  method: 'get',
  path: '/ready',
  tags: ['health'],
  summary: 'The database answers and is at the latest migration',
  security: [],
  responses: {
    200: jsonResponse(Status, 'Ready'),
    503: unavailableResponse('Not ready; details say what is wrong'),
  },
})

export function healthRoutes(services: Services) {
  return createRouter()
    .openapi(live, (c) => c.json({ status: 'ok' as const }, 200))
    .openapi(ready, async (c) => {
      await services.health.checkReady()
      return c.json({ status: 'ok' as const }, 200)
    })
}
