import { type Kysely, type RawBuilder, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import { prepared } from '../db/prepared'
import type { ItemRow } from '../db/rows'
import type { Database } from '../db/schema'
import { DEFAULT_QUANTITY, ITEM_KEYS, type ItemFields, type ItemFilter, type ItemPatch, type ItemWithCategory, type NewItem } from '../domain/item'
import { toTimestamp } from '../domain/timestamp'
import { NotFoundError, ValidationError } from '../errors'
import { type Columns, toColumns } from './columns'
import { decodeCursor, type Page, type PageRequest, toPage } from './paging'
import { assertTransaction } from './transaction'

export interface ItemRepository {
  /** Items with their category name, ordered by name (case-insensitive), then id. */
  list(filter?: ItemFilter): Promise<ItemWithCategory[]>
  /** One page of `list` (see PageRequest). Throws ValidationError (path `query.cursor`) for a bad cursor. */
  listPage(filter: ItemFilter, page: PageRequest): Promise<Page<ItemWithCategory>>
  /** Returns undefined when there is no such item. */
  findById(id: number): Promise<ItemWithCategory | undefined>
  /** One statement. Throws ValidationError (path `categoryId`) for an unknown category, ValidationError for a check violation. */
  create(input: NewItem): Promise<ItemWithCategory>
  /** One statement; sets updatedAt. Throws NotFoundError, or ValidationError as `create` does. */
  update(id: number, patch: ItemPatch): Promise<ItemWithCategory>
  /**
   * Locks the item's row until the transaction ends (SELECT ... FOR UPDATE): a transaction that
   * is putting it in a setup (holding it FOR KEY SHARE) commits first, and later ones wait for
   * this one. Throws NotFoundError; TransactionRequiredError outside a transaction.
   */
  lock(id: number): Promise<void>
  /** Also removes the item from every setup (cascade). Throws NotFoundError. */
  delete(id: number): Promise<void>
  /**
   * Moves every item of one category to another (the first step of deleting a category); returns
   * how many moved. Throws ConflictError if `toCategoryId` does not exist; TransactionRequiredError outside a transaction.
   */
  reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<number>
}

/** Items (as `item`) with their category's name. */
const withCategoryName = (db: Kysely<Database>) =>
  db.selectFrom('items as item').innerJoin('categories', 'categories.id', 'item.category_id').selectAll('item').select('categories.name as category_name')

const itemById = prepared((db, id: number) => withCategoryName(db).where('item.id', '=', id))

/** One statement: insert the item, then read the category name from the inserted row. */
const insertItem = prepared((db, columns: Columns<ItemFields>) =>
  db
    .with('item', (db) => db.insertInto('items').values(columns).returningAll())
    .selectFrom('item')
    .innerJoin('categories', 'categories.id', 'item.category_id')
    .selectAll('item')
    .select('categories.name as category_name'),
)

export class KyselyItemRepository implements ItemRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Items (as `item`) with their category's name. */
  private withCategoryName() {
    return withCategoryName(this.db)
  }

  async list(filter: ItemFilter = {}): Promise<ItemWithCategory[]> {
    const rows = await this.listQuery(filter).execute()
    return rows.map(toItemWithCategory)
  }

  async listPage(filter: ItemFilter, page: PageRequest): Promise<Page<ItemWithCategory>> {
    let query = this.listQuery(filter)
    if (page.cursor) {
      const [name, id] = decodeCursor(page.cursor, ['string', 'id'])
      query = query.where(sql<boolean>`(lower(item.name), item.name, item.id) > (lower(${name}), ${name}, ${id})`)
    }
    const rows = await query.limit(page.limit + 1).execute()
    return toPage(rows, page.limit, toItemWithCategory, (row) => [row.name, row.id])
  }

  /** The filtered items in list order: name (case-insensitive), name, id. */
  private listQuery(filter: ItemFilter) {
    let query = this.withCategoryName()
    if (filter.categoryId !== undefined) query = query.where('item.category_id', '=', filter.categoryId)
    if (filter.q) {
      const pattern = `%${escapeLike(filter.q)}%`
      query = query.where((eb) => eb.or([eb('item.name', 'ilike', pattern), eb('item.notes', 'ilike', pattern)]))
    }
    return query
      .orderBy((eb) => eb.fn('lower', ['item.name']))
      .orderBy('item.name')
      .orderBy('item.id')
  }

  async findById(id: number): Promise<ItemWithCategory | undefined> {
    const [row] = await itemById(this.db, id)
    return row && toItemWithCategory(row)
  }

  async create(input: NewItem): Promise<ItemWithCategory> {
    // Every column is given, so the statement is one shape whatever the input leaves out.
    const fields = Object.fromEntries(ITEM_KEYS.map((key) => [key, input[key] ?? (key === 'quantity' ? DEFAULT_QUANTITY : null)])) as ItemFields
    const [row] = await insertItem(this.db, toColumns(fields, ITEM_KEYS) as Columns<ItemFields>).catch(itemErrors)
    return toItemWithCategory(row!)
  }

  async update(id: number, patch: ItemPatch): Promise<ItemWithCategory> {
    const row = await this.db
      .with('item', (db) =>
        db
          .updateTable('items')
          .set((eb) => ({ ...toColumns(patch, ITEM_KEYS), updated_at: eb.fn('now') }))
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

  async lock(id: number): Promise<void> {
    assertTransaction(this.db, 'ItemRepository.lock')
    const row = await this.db.selectFrom('items').select('id').where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('item', id)
  }

  async delete(id: number): Promise<void> {
    const result = await this.db.deleteFrom('items').where('id', '=', id).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw new NotFoundError('item', id)
  }

  async reassignCategory(fromCategoryId: number, toCategoryId: number): Promise<number> {
    assertTransaction(this.db, 'ItemRepository.reassignCategory')
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

// Totals over items aliased `i`: unknown weights and prices count as 0, the quantity
// multiplies both, and prices go through bigint so that price x quantity cannot overflow integer.
// Weights are added as numeric, each double as its shortest decimal (its text; a direct cast to
// numeric keeps only 15 digits), so 0.1 + 0.2 is 0.3 and not 0.30000000000000004, whatever
// order the rows come in; the sum is a double again.
export const itemWeight = sql<number>`coalesce(i.weight_grams, 0)::text::numeric * i.quantity`
export const weightTotal = (sum: RawBuilder<unknown>) => sql<number>`coalesce(${sum}, 0)::float8`
export const totalWeight = weightTotal(sql`sum(${itemWeight})`)
export const totalPrice = sql<number>`coalesce(sum(coalesce(i.price_cents, 0)::bigint * i.quantity), 0)::bigint`

/**
 * An item row with its category's name as the domain object. Every item of every list and
 * setup passes through here, so it is one object literal (fromColumns and spreads took about
 * twice as long). A row nested in JSON (jsonArrayFrom) carries its timestamps as strings.
 */
export function toItemWithCategory(
  row: Omit<ItemRow, 'created_at' | 'updated_at'> & { created_at: Date | string; updated_at: Date | string; category_name: string },
): ItemWithCategory {
  return {
    id: row.id,
    name: row.name,
    weightGrams: row.weight_grams,
    priceCents: row.price_cents,
    categoryId: row.category_id,
    notes: row.notes,
    productUrl: row.product_url,
    imageFilename: row.image_filename,
    imageSourceUrl: row.image_source_url,
    quantity: row.quantity,
    createdAt: toTimestamp(row.created_at),
    updatedAt: toTimestamp(row.updated_at),
    categoryName: row.category_name,
  }
}
