import { createRoute } from '@hono/zod-openapi'
import { errorResponses, IdParams, jsonBody, jsonResponse, listResponse, writeErrorResponses } from '../schemas/common'
import { CreateItemBody, ItemListQuery, ItemSchema, UpdateItemBody } from '../schemas/item'
import type { Services } from '../services'
import { listReply } from './lists'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['items']

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Items with their category name, by name; filter by category and search name and notes',
  request: { query: ItemListQuery },
  middleware: takesNoBody,
  responses: { 200: listResponse(ItemSchema, 'Items'), ...errorResponses },
})

const get = createRoute({
  method: 'get',
  path: '/{id}',
  tags,
  summary: 'One item',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 200: jsonResponse(ItemSchema, 'The item'), ...errorResponses },
})

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create an item; an unknown categoryId is a 400',
  request: { body: jsonBody(CreateItemBody) },
  responses: { 201: jsonResponse(ItemSchema, 'Created'), ...writeErrorResponses },
})

const update = createRoute({
  method: 'patch',
  path: '/{id}',
  tags,
  summary: 'Change some fields of an item',
  request: { params: IdParams, body: jsonBody(UpdateItemBody) },
  responses: { 200: jsonResponse(ItemSchema, 'Updated'), ...writeErrorResponses },
})

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  summary: 'Delete an item; it leaves every setup too',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses },
})

export function itemRoutes(services: Services) {
  return createRouter()
    .openapi(list, (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query')
      return listReply(c, { limit, cursor }, (page) => services.items.listPage(filter, page), services.snapshot)
    })
    .openapi(get, async (c) => c.json(await services.items.get(c.req.valid('param').id), 200))
    .openapi(create, async (c) => c.json(await services.items.create(c.req.valid('json')), 201))
    .openapi(update, async (c) => c.json(await services.items.update(c.req.valid('param').id, c.req.valid('json')), 200))
    .openapi(remove, async (c) => {
      await services.items.delete(c.req.valid('param').id)
      return c.body(null, 204)
    })
}
