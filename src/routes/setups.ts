import { createRoute } from '@hono/zod-openapi'
import { errorResponses, IdParams, jsonBody, jsonResponse, listResponse, PageQuery, writeErrorResponses } from '../schemas/common'
import {
  ClassifySetupItemBody,
  CreateSetupBody,
  ReplaceSetupItemsBody,
  SetupItemParams,
  SetupSchema,
  SetupSummarySchema,
  UpdateSetupBody,
} from '../schemas/setup'
import type { Services } from '../services'
import { listReply } from './lists'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['setups']

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Setups with item count and totals, by name',
  request: { query: PageQuery },
  middleware: takesNoBody,
  responses: { 200: listResponse(SetupSummarySchema, 'Setups'), ...errorResponses },
})

const get = createRoute({
  method: 'get',
  path: '/{id}',
  tags,
  summary: 'One setup with its items, totals by classification and totals by category',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 200: jsonResponse(SetupSchema, 'The setup'), ...errorResponses },
})

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create an empty setup',
  request: { body: jsonBody(CreateSetupBody) },
  responses: { 201: jsonResponse(SetupSchema, 'Created'), ...writeErrorResponses },
})

const update = createRoute({
  method: 'patch',
  path: '/{id}',
  tags,
  summary: 'Rename a setup',
  request: { params: IdParams, body: jsonBody(UpdateSetupBody) },
  responses: { 200: jsonResponse(SetupSchema, 'Updated'), ...writeErrorResponses },
})

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  summary: 'Delete a setup; its items stay in the inventory',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses },
})

const replaceItems = createRoute({
  method: 'put',
  path: '/{id}/items',
  tags,
  summary: 'Replace the whole item list in one transaction; an unknown or repeated itemId is a 400 and changes nothing',
  request: { params: IdParams, body: jsonBody(ReplaceSetupItemsBody) },
  responses: { 200: jsonResponse(SetupSchema, 'The setup with its new list'), ...writeErrorResponses },
})

const classifyItem = createRoute({
  method: 'patch',
  path: '/{id}/items/{itemId}',
  tags,
  summary: 'Change how an item in the setup is carried; 404 when the item is not in the setup',
  request: { params: SetupItemParams, body: jsonBody(ClassifySetupItemBody) },
  responses: { 200: jsonResponse(SetupSchema, 'The whole setup, totals included'), ...writeErrorResponses },
})

export function setupRoutes(services: Services) {
  return createRouter()
    .openapi(list, (c) => listReply(c, c.req.valid('query'), (page) => services.setups.listPage(page), services.snapshot))
    .openapi(get, async (c) => c.json(await services.setups.get(c.req.valid('param').id), 200))
    .openapi(create, async (c) => c.json(await services.setups.create(c.req.valid('json')), 201))
    .openapi(update, async (c) => c.json(await services.setups.rename(c.req.valid('param').id, c.req.valid('json').name), 200))
    .openapi(remove, async (c) => {
      await services.setups.delete(c.req.valid('param').id)
      return c.body(null, 204)
    })
    .openapi(replaceItems, async (c) => c.json(await services.setups.replaceItems(c.req.valid('param').id, c.req.valid('json').items), 200))
    .openapi(classifyItem, async (c) => {
      const { id, itemId } = c.req.valid('param')
      return c.json(await services.setups.classifyItem(id, itemId, c.req.valid('json').classification), 200)
    })
}
