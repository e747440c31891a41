import { createRoute } from '@hono/zod-openapi'
import { errorResponses, IdParams, jsonBody, jsonResponse, listResponse, writeErrorResponses } from '../schemas/common'
import {
  CandidateParams,
  CandidateSchema,
  CreateCandidateBody,
  CreateThreadBody,
  ReorderCandidatesBody,
  ResolutionSchema,
  ResolveThreadBody,
  ThreadListQuery,
  ThreadSchema,
  ThreadSummarySchema,
  UpdateCandidateBody,
  UpdateThreadBody,
} from '../schemas/thread'
import type { Services } from '../services'
import { listReply } from './lists'
import { takesNoBody } from './middleware/body'
import { createRouter } from './router'

const tags = ['threads']

const list = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Purchase research threads, newest first, with their candidate counts',
  request: { query: ThreadListQuery },
  middleware: takesNoBody,
  responses: { 200: listResponse(ThreadSummarySchema, 'Threads'), ...errorResponses },
})

const get = createRoute({
  method: 'get',
  path: '/{id}',
  tags,
  summary: 'One thread with its candidates by sortOrder',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 200: jsonResponse(ThreadSchema, 'The thread'), ...errorResponses },
})

const create = createRoute({
  method: 'post',
  path: '/',
  tags,
  summary: 'Start a thread; an unknown categoryId is a 400',
  request: { body: jsonBody(CreateThreadBody) },
  responses: { 201: jsonResponse(ThreadSchema, 'Created'), ...writeErrorResponses },
})

const update = createRoute({
  method: 'patch',
  path: '/{id}',
  tags,
  summary: 'Rename a thread or change its category',
  request: { params: IdParams, body: jsonBody(UpdateThreadBody) },
  responses: { 200: jsonResponse(ThreadSchema, 'Updated'), ...writeErrorResponses },
})

const remove = createRoute({
  method: 'delete',
  path: '/{id}',
  tags,
  summary: 'Delete a thread and its candidates; items it created stay',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses },
})

const addCandidate = createRoute({
  method: 'post',
  path: '/{id}/candidates',
  tags,
  summary: "Add a candidate; categoryId defaults to the thread's, sortOrder to after the last one",
  request: { params: IdParams, body: jsonBody(CreateCandidateBody) },
  responses: { 201: jsonResponse(CandidateSchema, 'Created'), ...writeErrorResponses },
})

const updateCandidate = createRoute({
  method: 'patch',
  path: '/{id}/candidates/{candidateId}',
  tags,
  summary: 'Change some fields of a candidate; a candidate of another thread is a 404',
  request: { params: CandidateParams, body: jsonBody(UpdateCandidateBody) },
  responses: { 200: jsonResponse(CandidateSchema, 'Updated'), ...writeErrorResponses },
})

const removeCandidate = createRoute({
  method: 'delete',
  path: '/{id}/candidates/{candidateId}',
  tags,
  summary: 'Delete a candidate; a candidate of another thread is a 404, the one a resolved thread was resolved with a 409 (unresolve first)',
  request: { params: CandidateParams },
  middleware: takesNoBody,
  responses: { 204: { description: 'Deleted' }, ...writeErrorResponses },
})

const reorder = createRoute({
  method: 'put',
  path: '/{id}/candidates/order',
  tags,
  summary: "Order the candidates; the list must be exactly the thread's candidates, else 400",
  request: { params: IdParams, body: jsonBody(ReorderCandidatesBody) },
  responses: { 200: jsonResponse(ThreadSchema, 'The thread with its candidates in the new order'), ...writeErrorResponses },
})

const resolve = createRoute({
  method: 'post',
  path: '/{id}/resolve',
  tags,
  summary: 'Buy a candidate: creates an item from it and resolves the thread, in one transaction',
  description:
    'A resolved thread answers 409. A candidateId that is not one of this thread’s candidates is a 400 ' +
    '(details path `candidateId`): the thread exists, the body names something it does not have.',
  request: { params: IdParams, body: jsonBody(ResolveThreadBody) },
  responses: { 200: jsonResponse(ResolutionSchema, 'The resolved thread and the new item'), ...writeErrorResponses },
})

const unresolve = createRoute({
  method: 'post',
  path: '/{id}/unresolve',
  tags,
  summary: 'Make a resolved thread active again; the item it created stays. An active thread answers 409.',
  request: { params: IdParams },
  middleware: takesNoBody,
  responses: { 200: jsonResponse(ThreadSchema, 'The active thread'), ...writeErrorResponses },
})

export function threadRoutes(services: Services) {
  const threads = services.threads
  return createRouter()
    .openapi(list, (c) => {
      const { limit, cursor, ...filter } = c.req.valid('query')
      return listReply(c, { limit, cursor }, (page) => threads.listPage(filter, page), services.snapshot)
    })
    .openapi(get, async (c) => c.json(await threads.get(c.req.valid('param').id), 200))
    .openapi(create, async (c) => c.json(await threads.create(c.req.valid('json')), 201))
    .openapi(update, async (c) => c.json(await threads.update(c.req.valid('param').id, c.req.valid('json')), 200))
    .openapi(remove, async (c) => {
      await threads.delete(c.req.valid('param').id)
      return c.body(null, 204)
    })
    .openapi(addCandidate, async (c) => c.json(await threads.addCandidate(c.req.valid('param').id, c.req.valid('json')), 201))
    .openapi(updateCandidate, async (c) => {
      const { id, candidateId } = c.req.valid('param')
      return c.json(await threads.updateCandidate(id, candidateId, c.req.valid('json')), 200)
    })
    .openapi(removeCandidate, async (c) => {
      const { id, candidateId } = c.req.valid('param')
      await threads.deleteCandidate(id, candidateId)
      return c.body(null, 204)
    })
    .openapi(reorder, async (c) => c.json(await threads.reorderCandidates(c.req.valid('param').id, c.req.valid('json').candidateIds), 200))
    .openapi(resolve, async (c) => c.json(await threads.resolve(c.req.valid('param').id, c.req.valid('json').candidateId), 200))
    .openapi(unresolve, async (c) => c.json(await threads.unresolve(c.req.valid('param').id), 200))
}
