import type { ItemWithCategory } from './item'
import type { Timestamp } from './timestamp'

export const CLASSIFICATIONS = ['base', 'worn', 'consumable'] as const
export type Classification = (typeof CLASSIFICATIONS)[number]

export interface Setup {
  id: number
  name: string
  createdAt: Timestamp
  updatedAt: Timestamp
}

export interface SetupSummary extends Setup {
  /** Rows in the setup, i.e. distinct items; an item's own quantity does not add to it. */
  itemCount: number
  totalWeightGrams: number
  totalPriceCents: number
}

/** An item as it sits in a setup: the item with its category name, and how it is carried. */
export interface SetupItem extends ItemWithCategory {
  classification: Classification
}

export interface SetupTotals {
  baseWeightGrams: number
  wornWeightGrams: number
  consumableWeightGrams: number
  totalWeightGrams: number
  totalPriceCents: number
}

export interface SetupCategoryTotal {
  categoryId: number
  categoryName: string
  weightGrams: number
  priceCents: number
  itemCount: number
}

export interface SetupDetail extends Setup {
  items: SetupItem[]
  totals: SetupTotals
  byCategory: SetupCategoryTotal[]
}

export interface SetupItemEntry {
  itemId: number
  classification: Classification
}
