import { z } from '@hono/zod-openapi'
import { CLASSIFICATIONS } from '../domain/setup'
import { idParam, MAX_INT4, MAX_NAME_LENGTH, nameString, Timestamp } from './common'
import { ItemSchema } from './item'

/** A setup lists at most this many items; it also keeps one PUT within PostgreSQL's parameter limit. */
export const MAX_SETUP_ITEMS = 1000

const Name = nameString(MAX_NAME_LENGTH).openapi({ example: 'Summer overnighter' })
const Classification = z.enum(CLASSIFICATIONS).openapi({ description: 'How the item is carried: base (in the pack), worn, or consumable (food, fuel, water)' })

export const SetupItemParams = z.object({ id: idParam('id'), itemId: idParam('itemId') })

export const CreateSetupBody = z.object({ name: Name }).strict().openapi('CreateSetup')

export const UpdateSetupBody = z.object({ name: Name }).strict().openapi('UpdateSetup')

export const ReplaceSetupItemsBody = z
  .object({
    items: z
      .array(z.object({ itemId: z.int().min(1).max(MAX_INT4), classification: Classification }).strict())
      .max(MAX_SETUP_ITEMS)
      .openapi({
        description:
          'The complete new list. classification is required (no default), so a replace never quietly resets it; each itemId may appear once and must exist.',
      }),
  })
  .strict()
  .openapi('ReplaceSetupItems')

export const ClassifySetupItemBody = z.object({ classification: Classification }).strict().openapi('ClassifySetupItem')

const weightGrams = (description: string) => z.number().openapi({ description })

export const SetupSummarySchema = z
  .object({
    id: z.int(),
    name: z.string(),
    itemCount: z.int().openapi({ description: 'Number of distinct items in the setup (rows, not quantities)' }),
    totalWeightGrams: weightGrams('Sum of weight x quantity; unknown weights count as 0'),
    totalPriceCents: z.int().openapi({ description: 'Sum of price x quantity; unknown prices count as 0' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('SetupSummary')

const SetupItemSchema = ItemSchema.extend({ classification: Classification }).openapi('SetupItem')

export const SetupSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp.openapi({ description: 'Also moves when the item list or a classification changes' }),
    items: z.array(SetupItemSchema).openapi({ description: 'Ordered by category name, then item name, then id' }),
    totals: z
      .object({
        baseWeightGrams: weightGrams('Weight x quantity of the items classified base'),
        wornWeightGrams: weightGrams('Weight x quantity of the items classified worn'),
        consumableWeightGrams: weightGrams('Weight x quantity of the items classified consumable'),
        totalWeightGrams: weightGrams('Weight x quantity of every item'),
        totalPriceCents: z.int().openapi({ description: 'Price x quantity of every item' }),
      })
      .openapi({ description: 'Unknown weights and prices count as 0' }),
    byCategory: z
      .array(
        z.object({
          categoryId: z.int(),
          categoryName: z.string(),
          weightGrams: weightGrams('Weight x quantity of the setup items in this category'),
          priceCents: z.int(),
          itemCount: z.int().openapi({ description: 'Number of distinct items (rows, not quantities)' }),
        }),
      )
      .openapi({ description: 'Only categories with items in the setup, ordered by name' }),
  })
  .openapi('Setup')
