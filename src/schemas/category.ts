import { z } from '@hono/zod-openapi'
import { nameString, someFieldRequired, Timestamp } from './common'

const Name = nameString(100).openapi({ example: 'Shelter' })
const Icon = z.string().min(1).max(50).openapi({ example: 'tent' })

export const CreateCategoryBody = z.object({ name: Name, icon: Icon.optional() }).strict().openapi('CreateCategory')

export const UpdateCategoryBody = someFieldRequired(z.object({ name: Name.optional(), icon: Icon.optional() }).strict()).openapi('UpdateCategory')

export const CategorySchema = z.object({ id: z.int(), name: z.string(), icon: z.string(), createdAt: Timestamp }).openapi('Category')

export const CategorySummarySchema = CategorySchema.extend({
  itemCount: z.int(),
  totalWeightGrams: z.number().openapi({ description: 'Sum of weight x quantity; unknown weights count as 0' }),
  totalPriceCents: z.int().openapi({ description: 'Sum of price x quantity; unknown prices count as 0' }),
}).openapi('CategorySummary')
