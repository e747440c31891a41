import { createRoute } from '@hono/zod-openapi'
import { errorResponses, jsonBody, jsonResponse, writeErrorResponses } from '../schemas/common'
import { PutSettingBody, SettingParams, SettingSchema, SettingsSchema } from '../schemas/setting'
import type { Services } from '../services'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['settings']

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Every stored setting as one key -> value object',
  middleware: takesNoBody,
  responses: { 200: jsonResponse(SettingsSchema, 'Settings'), ...errorResponses },
})

const put = createRoute({
  method: 'put',
  path: '/{key}',
  tags,
  summary: 'Create or overwrite one setting; known keys have their values checked',
  request: { params: SettingParams, body: jsonBody(PutSettingBody) },
  responses: { 200: jsonResponse(SettingSchema, 'The stored setting: {key, value}'), ...writeErrorResponses },
})

export function settingRoutes(services: Services) {
  return createRouter()
    .openapi(list, async (c) => c.json(await services.settings.all(), 200))
    .openapi(put, async (c) => c.json(await services.settings.set(c.req.valid('param').key, c.req.valid('json').value), 200))
}
