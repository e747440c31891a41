import { z } from '@hono/zod-openapi'
import { itemFields } from '../domain/item'
import { idParam, pageQuery, someFieldRequired, Timestamp } from './common'

export const CreateItemBody = z.object(itemFields).partial().required({ name: true, categoryId: true }).strict().openapi('CreateItem')

export const UpdateItemBody = someFieldRequired(z.object(itemFields).partial().strict()).openapi('UpdateItem')

export const ItemListQuery = z.object({
  categoryId: idParam('categoryId')
    .optional()
    .openapi({ param: { name: 'categoryId', in: 'query' } }),
  q: z
    .string()
    .max(200)
    // A query string can carry %00, which no stored name or note holds (and PostgreSQL refuses in a pattern).
    .refine((q) => !q.includes('\0'), 'must not contain NUL characters')
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Matches name or notes, case-insensitive' }),
  ...pageQuery,
})

export const ItemSchema = z.object({ id: z.int(), ...itemFields, categoryName: z.string(), createdAt: Timestamp, updatedAt: Timestamp }).openapi('Item')
