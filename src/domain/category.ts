import type { Timestamp } from './timestamp'
export interface Category {
  id: number
  name: string
  icon: string
  createdAt: Timestamp
}

export interface CategorySummary extends Category {
  itemCount: number
  /** Sum of weight x quantity; unknown weights count as 0. */
  totalWeightGrams: number
  /** Sum of price x quantity; unknown prices count as 0. */
  totalPriceCents: number
}

export type NewCategory = { name: string; icon?: string }
export type CategoryPatch = Partial<Pick<Category, 'name' | 'icon'>>
