import { z } from '@hono/zod-openapi'
import { hasSomeField, idParam, MAX_INT4, nameString, Timestamp } from './common'

const HttpUrl = z.url({ protocol: /^https?$/ }).max(2048)

/** Writable item fields; nullable ones accept null for "unknown". */
const fields = {
  name: nameString(200).openapi({ example: 'Tent' }),
  categoryId: z.int().min(1).max(MAX_INT4),
  weightGrams: z.number().min(0).nullable().openapi({ example: 1250.5 }),
  priceCents: z.int().min(0).max(MAX_INT4).nullable().openapi({ example: 34900 }),
  notes: z.string().max(10_000).nullable(),
  productUrl: HttpUrl.nullable().openapi({ example: 'https://example.com/tent' }),
  imageFilename: z.string().min(1).max(255).nullable(),
  imageSourceUrl: HttpUrl.nullable(),
  quantity: z.int().min(1).max(MAX_INT4),
}

export const CreateItemBody = z
  .object({
    ...fields,
    weightGrams: fields.weightGrams.optional(),
    priceCents: fields.priceCents.optional(),
    notes: fields.notes.optional(),
    productUrl: fields.productUrl.optional(),
    imageFilename: fields.imageFilename.optional(),
    imageSourceUrl: fields.imageSourceUrl.optional(),
    quantity: fields.quantity.optional(),
  })
  .strict()
  .openapi('CreateItem')

export const UpdateItemBody = z
  .object(fields)
  .partial()
  .strict()
  .refine(hasSomeField, 'at least one field is required')
  .openapi('UpdateItem')

export const ItemListQuery = z.object({
  categoryId: idParam('categoryId').optional().openapi({ param: { name: 'categoryId', in: 'query' } }),
  q: z
    .string()
    .max(200)
    .optional()
    .openapi({ param: { name: 'q', in: 'query' }, description: 'Matches name or notes, case-insensitive' }),
})

export const ItemSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    weightGrams: z.number().nullable(),
    priceCents: z.int().nullable(),
    categoryId: z.int(),
    categoryName: z.string(),
    notes: z.string().nullable(),
    productUrl: z.string().nullable(),
    imageFilename: z.string().nullable(),
    imageSourceUrl: z.string().nullable(),
    quantity: z.int(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Item')
