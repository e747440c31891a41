import { z } from '@hono/zod-openapi'
import { CANDIDATE_STATUSES, THREAD_STATUSES } from '../repositories/thread-repository'
import { hasSomeField, idParam, MAX_INT4, nameString, Timestamp } from './common'
import { CreateItemBody, ItemSchema } from './item'

// A candidate is a would-be item, so its item fields follow the item rules exactly.
const item = CreateItemBody.shape

const dbId = z.int().min(1).max(MAX_INT4)

export const ThreadListQuery = z.object({
  status: z
    .enum(THREAD_STATUSES)
    .optional()
    .openapi({ param: { name: 'status', in: 'query' }, description: 'Only threads with this status' }),
})

export const CreateThreadBody = z
  .object({ name: nameString(200).openapi({ example: 'New tent' }), categoryId: item.categoryId })
  .strict()
  .openapi('CreateThread')

export const UpdateThreadBody = CreateThreadBody.partial().strict().refine(hasSomeField, 'at least one field is required').openapi('UpdateThread')

const candidateFields = z.object({
  name: item.name,
  weightGrams: item.weightGrams,
  priceCents: item.priceCents,
  categoryId: item.categoryId.optional().openapi({ description: "Defaults to the thread's category" }),
  notes: item.notes,
  productUrl: item.productUrl,
  imageFilename: item.imageFilename,
  imageSourceUrl: item.imageSourceUrl,
  status: z.enum(CANDIDATE_STATUSES).optional(),
  pros: item.notes,
  cons: item.notes,
  // zod rejects NaN and the infinities, which the sort_order check would refuse anyway.
  sortOrder: z.number().optional().openapi({ description: 'Defaults to after the last candidate' }),
})

export const CreateCandidateBody = candidateFields.strict().openapi('CreateCandidate')

export const UpdateCandidateBody = candidateFields
  .partial()
  .strict()
  .refine(hasSomeField, 'at least one field is required')
  .openapi('UpdateCandidate')

export const CandidateParams = z.object({ id: idParam('id'), candidateId: idParam('candidateId') })

export const ReorderCandidatesBody = z
  .object({
    candidateIds: z
      .array(dbId)
      .max(10_000)
      .openapi({ description: "Every candidate of the thread, each once, in the new order" }),
  })
  .strict()
  .openapi('ReorderCandidates')

export const ResolveThreadBody = z.object({ candidateId: dbId }).strict().openapi('ResolveThread')

export const CandidateSchema = z
  .object({
    id: z.int(),
    threadId: z.int(),
    name: z.string(),
    weightGrams: z.number().nullable(),
    priceCents: z.int().nullable(),
    categoryId: z.int(),
    notes: z.string().nullable(),
    productUrl: z.string().nullable(),
    imageFilename: z.string().nullable(),
    imageSourceUrl: z.string().nullable(),
    status: z.enum(CANDIDATE_STATUSES),
    pros: z.string().nullable(),
    cons: z.string().nullable(),
    sortOrder: z.number(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Candidate')

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
