import { z } from '@hono/zod-openapi'
import { gearFields } from '../domain/gear'
import { candidateFields, THREAD_STATUSES } from '../domain/thread'
import { idParam, MAX_INT4, MAX_NAME_LENGTH, nameString, pageQuery, someFieldRequired, Timestamp } from './common'
import { ItemSchema } from './item'

export const dbId = z.int().min(1).max(MAX_INT4)

export const ThreadListQuery = z.object({
  status: z
    .enum(THREAD_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' }, description: 'Only threads with this status' }),
  ...pageQuery,
})

export const CreateThreadBody = z
  .object({ name: nameString(MAX_NAME_LENGTH).openapi({ example: 'New tent' }), categoryId: gearFields.categoryId })
  .strict()
  .openapi('CreateThread')

export const UpdateThreadBody = someFieldRequired(CreateThreadBody.partial().strict()).openapi('UpdateThread')

const candidateBody = z.object({
  ...candidateFields,
  categoryId: candidateFields.categoryId.openapi({ description: "Defaults to the thread's category" }),
  sortOrder: candidateFields.sortOrder.openapi({ description: 'Defaults to after the last candidate' }),
})

export const CreateCandidateBody = candidateBody.partial().required({ name: true }).strict().openapi('CreateCandidate')

export const UpdateCandidateBody = someFieldRequired(candidateBody.partial().strict()).openapi('UpdateCandidate')

export const CandidateParams = z.object({ id: idParam('id'), candidateId: idParam('candidateId') })

export const ReorderCandidatesBody = z
  .object({
    candidateIds: z.array(dbId).max(10_000).openapi({ description: 'Every candidate of the thread, each once, in the new order' }),
  })
  .strict()
  .openapi('ReorderCandidates')

export const ResolveThreadBody = z.object({ candidateId: dbId }).strict().openapi('ResolveThread')

export const CandidateSchema = z.object({ id: z.int(), threadId: z.int(), ...candidateFields, createdAt: Timestamp, updatedAt: Timestamp }).openapi('Candidate')

const threadFields = {
  id: z.int(),
  name: z.string(),
  status: z.enum(THREAD_STATUSES),
  categoryId: z.int(),
  resolvedCandidateId: z.int().nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
}

export const ThreadSummarySchema = z.object({ ...threadFields, candidateCount: z.int() }).openapi('ThreadSummary')

export const ThreadSchema = z.object({ ...threadFields, candidates: z.array(CandidateSchema) }).openapi('Thread')

export const ResolutionSchema = z.object({ thread: ThreadSchema, item: ItemSchema }).openapi('ThreadResolution')
