import { createRoute } from '@hono/zod-openapi'
import { CategorySummarySchema, CreateCategoryBody, UpdateCategoryBody } from '../schemas/category'
import { errorResponses, IdParams, jsonBody, jsonResponse, listResponse, PageQuery, writeErrorResponses } from '../schemas/common'
import type { Services } from '../services'
import { listReply } from './lists'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['categories']

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Categories with item count and totals (weight and price x quantity), by name',
  request: { query: PageQuery },
  middleware: takesNoBody,
  responses: { 200: listResponse(CategorySummarySchema, 'Categories'), ...errorResponses },
})

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Create a category; a taken name is a 409',
  request: { body: jsonBody(CreateCategoryBody) },
  responses: { 201: jsonResponse(CategorySummarySchema, 'Created, as a list entry (no items yet)'), ...writeErrorResponses },
})

const update = createRoute({
  method: 'patch',
  path: '/{id}',
  tags,
  summary: 'Rename a category or change its icon',
  request: { params: IdParams, body: jsonBody(UpdateCategoryBody) },
  responses: { 200: jsonResponse(CategorySummarySchema, 'Updated, as a list entry with its totals'), ...writeErrorResponses },
})

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  summary: 'Delete a category; its items, threads and candidates move to Uncategorized (id 1), which cannot be deleted',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses },
})

export function categoryRoutes(services: Services) {
  return createRouter()
    .openapi(list, (c) => listReply(c, c.req.valid('query'), (page) => services.categories.listPage(page), services.snapshot))
    .openapi(create, async (c) => c.json(await services.categories.create(c.req.valid('json')), 201))
    .openapi(update, async (c) => c.json(await services.categories.update(c.req.valid('param').id, c.req.valid('json')), 200))
    .openapi(remove, async (c) => {
      await services.categories.delete(c.req.valid('param').id)
      return c.body(null, 204)
    })
}
