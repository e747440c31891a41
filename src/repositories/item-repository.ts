import { type Kysely, sql, type Updateable } from 'kysely'
import type { ItemRow } from '../db/rows'
import { onConstraint } from '../db/errors'
import type { DB, Items } from '../db/types'
import { NotFoundError, ValidationError } from '../errors'

export interface Item {
  id: number
  name: string
  weightGrams: number | null
  priceCents: number | null
  categoryId: number
  notes: string | null
  productUrl: string | null
  imageFilename: string | null
  imageSourceUrl: string | null
  quantity: number
  createdAt: Date
  updatedAt: Date
}

export interface ItemWithCategory extends Item {
  categoryName: string
}

type ItemFields = Pick<Item, 'weightGrams' | 'priceCents' | 'notes' | 'productUrl' | 'imageFilename' | 'imageSourceUrl' | 'quantity'>

export type NewItem = { name: string; categoryId: number } & Partial<ItemFields>

export type ItemPatch = Partial<Pick<Item, 'name' | 'categoryId'> & ItemFields>

export interface ItemFilter {
  categoryId?: number
  /** Matches name or notes, case-insensitive, as a literal substring. */
  q?: string
}

export interface ItemRepository {
  /** Items with their category name, ordered by name (case-insensitive), then id. */
  list(filter?: ItemFilter): Promise<ItemWithCategory[]>
  /** Returns undefined when there is no such item. */
  findById(id: number): Promise<ItemWithCategory | undefined>
  /** Throws ValidationError (path `categoryId`) for an unknown category, ValidationError for a check violation. */
  create(input: NewItem): Promise<ItemWithCategory>
  /** Sets updatedAt. Throws NotFoundError, or ValidationError as `create` does. */
  update(id: number, patch: ItemPatch): Promise<ItemWithCategory>
  /** Also removes the item from every setup (cascade). Throws NotFoundError. */
  delete(id: number): Promise<void>
  /** Moves every item of one category to another; returns how many moved. Throws ConflictError if `toCategoryId` does not exist. */
  reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<number>
}

export class KyselyItemRepository implements ItemRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Items (as `item`) with their category's name. */
  private withCategoryName() {
    return this.db
      .selectFrom('items as item')
      .innerJoin('categories', 'categories.id', 'item.category_id')
      .selectAll('item')
      .select('categories.name as category_name')
  }

  async list(filter: ItemFilter = {}): Promise<ItemWithCategory[]> {
    let query = this.withCategoryName()
    if (filter.categoryId !== undefined) query = query.where('item.category_id', '=', filter.categoryId)
    if (filter.q) {
      const pattern = `%${escapeLike(filter.q)}%`
      query = query.where((eb) => eb.or([eb('item.name', 'ilike', pattern), eb('item.notes', 'ilike', pattern)]))
    }
    const rows = await query
      .orderBy((eb) => eb.fn('lower', ['item.name']))
      .orderBy('item.name')
      .orderBy('item.id')
      .execute()
    return rows.map(toItemWithCategory)
  }

  async findById(id: number): Promise<ItemWithCategory | undefined> {
    const row = await this.withCategoryName().where('item.id', '=', id).executeTakeFirst()
    return row && toItemWithCategory(row)
  }

  async create(input: NewItem): Promise<ItemWithCategory> {
    // One statement: insert, then read the category name from the inserted row.
    const row = await this.db
      .with('item', (db) => db.insertInto('items').values({ ...toRow(input), name: input.name, category_id: input.categoryId }).returningAll())
      .selectFrom('item')
      .innerJoin('categories', 'categories.id', 'item.category_id')
      .selectAll('item')
      .select('categories.name as category_name')
      .executeTakeFirstOrThrow()
      .catch(itemErrors)
    return toItemWithCategory(row)
  }

  async update(id: number, patch: ItemPatch): Promise<ItemWithCategory> {
    const row = await this.db
      .with('item', (db) =>
        db
          .updateTable('items')
          .set((eb) => ({ ...toRow(patch), updated_at: eb.fn('now') }))
          .where('id', '=', id)
          .returningAll(),
      )
      .selectFrom('item')
      .innerJoin('categories', 'categories.id', 'item.category_id')
      .selectAll('item')
      .select('categories.name as category_name')
      .executeTakeFirst()
      .catch(itemErrors)
    if (!row) throw new NotFoundError('item', id)
    return toItemWithCategory(row)
  }

  async delete(id: number): Promise<void> {
    const result = await this.db.deleteFrom('items').where('id', '=', id).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw new NotFoundError('item', id)
  }

  async reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<number> {
    const result = await this.db
      .updateTable('items')
      .set((eb) => ({ category_id: toCategoryId, updated_at: eb.fn('now') }))
      .where('category_id', '=', fromCategoryId)
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  }
}

/** LIKE treats %, _ and \ specially; escape them so a search matches them literally. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

/** A category that does not exist is bad input (400) on categoryId, not a conflict. */
export const unknownCategory = () => new ValidationError('category does not exist', [{ path: 'categoryId', message: 'category does not exist' }])
const itemErrors = onConstraint({ items_category_id_fkey: unknownCategory })

/** What a thread candidate shares with an item: the description of a piece of gear. */
export type GearFields = Omit<Item, 'id' | 'quantity' | 'createdAt' | 'updatedAt'>
type GearColumns = Pick<ItemRow, 'name' | 'weight_grams' | 'price_cents' | 'category_id' | 'notes' | 'product_url' | 'image_filename' | 'image_source_url'>

export function gearFields(row: GearColumns): GearFields {
  return {
    name: row.name,
    weightGrams: row.weight_grams,
    priceCents: row.price_cents,
    categoryId: row.category_id,
    notes: row.notes,
    productUrl: row.product_url,
    imageFilename: row.image_filename,
    imageSourceUrl: row.image_source_url,
  }
}

// Kysely leaves out undefined values, so a PATCH touches only the columns it names.
export function gearColumns(input: Partial<GearFields>): Partial<GearColumns> {
  return {
    name: input.name,
    weight_grams: input.weightGrams,
    price_cents: input.priceCents,
    category_id: input.categoryId,
    notes: input.notes,
    product_url: input.productUrl,
    image_filename: input.imageFilename,
    image_source_url: input.imageSourceUrl,
  }
}

// Totals over items aliased `i`: unknown weights and prices count as 0, the quantity
// multiplies both, and prices go through bigint so that price x quantity cannot overflow integer.
export const itemWeight = sql<number>`coalesce(i.weight_grams, 0) * i.quantity`
export const totalWeight = sql<number>`coalesce(sum(${itemWeight}), 0)`
export const totalPrice = sql<number>`coalesce(sum(coalesce(i.price_cents, 0)::bigint * i.quantity), 0)::bigint`

function toRow(input: ItemPatch): Updateable<Items> {
  return { ...gearColumns(input), quantity: input.quantity }
}

export function toItem(row: ItemRow): Item {
  return { id: row.id, ...gearFields(row), quantity: row.quantity, createdAt: row.created_at, updatedAt: row.updated_at }
}

export function toItemWithCategory(row: ItemRow & { category_name: string }): ItemWithCategory {
  return { ...toItem(row), categoryName: row.category_name }
}
