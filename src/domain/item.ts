import { z } from '@hono/zod-openapi'
import { MAX_QUANTITY } from '../schemas/common'
import { BOUND, type FieldValues, gearFields } from './gear'
import type { Timestamp } from './timestamp'

/** An item's writable fields: the gear description plus what only an owned item has. */
export const itemFields = {
  ...gearFields,
  quantity: z.int().min(1).max(MAX_QUANTITY).openapi({ description: BOUND }),
}

export type ItemFields = FieldValues<typeof itemFields>
export const ITEM_KEYS = Object.keys(itemFields) as (keyof ItemFields)[]

export interface Item extends ItemFields {
  id: number
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface ItemWithCategory extends Item {
  categoryName: string
}

/** An item's quantity when a new item does not say (the column's default too). */
export const DEFAULT_QUANTITY = 1

/** Only `name` and `categoryId` are required; nullable fields default to null, `quantity` to DEFAULT_QUANTITY. */
export type NewItem = Pick<ItemFields, 'name' | 'categoryId'> & Partial<ItemFields>
export type ItemPatch = Partial<ItemFields>

export interface ItemFilter {
  categoryId?: number
  /** Matches name or notes, case-insensitive, as a literal substring. */
  q?: string
}
