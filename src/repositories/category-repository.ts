import { type Kysely, sql } from 'kysely'
import { onConstraint } from '../db/errors'
import { prepared } from '../db/prepared'
import type { CategoryRow } from '../db/rows'
import type { DB } from '../db/types'
import type { Category, CategoryPatch, CategorySummary, NewCategory } from '../domain/category'
import { toTimestamp } from '../domain/timestamp'
import { ConflictError, NotFoundError } from '../errors'
import { totalPrice, totalWeight } from './item-repository'
import { decodeCursor, type Page, type PageRequest, toPage } from './paging'
import { assertTransaction } from './transaction'

export interface CategoryRepository {
  /** Every category with its item totals, ordered by name (case-insensitive), then id. */
  list(): Promise<CategorySummary[]>
  /** One page of `list` (see PageRequest). Throws ValidationError (path `query.cursor`) for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<CategorySummary>>
  /** Returns undefined when there is no such category. */
  findById(id: number): Promise<Category | undefined>
  /** The category as `list` gives it, with its item totals; undefined when there is no such category. */
  findSummary(id: number): Promise<CategorySummary | undefined>
  /**
   * Reads the category and locks its row (FOR UPDATE) until the transaction ends: rows being
   * added to it are committed first, later ones wait. Throws NotFoundError; TransactionRequiredError outside a transaction.
   */
  lockById(id: number): Promise<Category>
  /**
   * Locks the category's row FOR KEY SHARE (what a foreign key check takes) until the
   * transaction ends, so it cannot be deleted meanwhile; waits while a delete holds it. Returns
   * false when there is no such category (a delete that committed while this waited). Take it
   * before locking the row whose category is copied (see ThreadService.resolve): a category
   * delete locks the category first, then the rows it moves. TransactionRequiredError outside a transaction.
   */
  lockForKeyShare(id: number): Promise<boolean>
  /** One statement. Throws ConflictError (`categories_name_key`) when the name is taken. */
  create(input: NewCategory): Promise<Category>
  /**
   * One statement: the changed category as `list` gives it, with its item totals. Throws
   * NotFoundError, or ConflictError (`categories_name_key`) when the name is taken.
   */
  update(id: number, patch: CategoryPatch): Promise<CategorySummary>
  /** Throws NotFoundError, or ConflictError while items, threads or candidates still refer to it. */
  delete(id: number): Promise<void>
}

/** A category's item count and totals, over its items joined as `i`. */
const itemTotals = [sql<number>`count(i.id)`.as('item_count'), totalWeight.as('total_weight_grams'), totalPrice.as('total_price_cents')]

/** Categories with their item totals in list order: name (case-insensitive), name, id. */
const listQuery = (db: Kysely<DB>) =>
  db
    .selectFrom('categories')
    .leftJoin('items as i', 'i.category_id', 'categories.id')
    .selectAll('categories')
    .select(itemTotals)
    .groupBy('categories.id')
    .orderBy((eb) => eb.fn('lower', ['categories.name']))
    .orderBy('categories.name')
    .orderBy('categories.id')

const categoryList = prepared(listQuery)

export class KyselyCategoryRepository implements CategoryRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async list(): Promise<CategorySummary[]> {
    const rows = await categoryList(this.db)
    return rows.map(toSummary)
  }

  async listPage(page: PageRequest): Promise<Page<CategorySummary>> {
    let query = listQuery(this.db)
    if (page.cursor) {
      const [name, id] = decodeCursor(page.cursor, ['string', 'id'])
      query = query.where(sql<boolean>`(lower(categories.name), categories.name, categories.id) > (lower(${name}), ${name}, ${id})`)
    }
    const rows = await query.limit(page.limit + 1).execute()
    return toPage(rows, page.limit, toSummary, (row) => [row.name, row.id])
  }

  async findById(id: number): Promise<Category | undefined> {
    const row = await this.db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst()
    return row && toCategory(row)
  }

  async findSummary(id: number): Promise<CategorySummary | undefined> {
    const row = await listQuery(this.db).where('categories.id', '=', id).executeTakeFirst()
    return row && toSummary(row)
  }

  async lockById(id: number): Promise<Category> {
    assertTransaction(this.db, 'CategoryRepository.lockById')
    const row = await this.db.selectFrom('categories').selectAll().where('id', '=', id).forUpdate().executeTakeFirst()
    if (!row) throw new NotFoundError('category', id)
    return toCategory(row)
  }

  async lockForKeyShare(id: number): Promise<boolean> {
    assertTransaction(this.db, 'CategoryRepository.lockForKeyShare')
    return (await this.db.selectFrom('categories').select('id').where('id', '=', id).forKeyShare().executeTakeFirst()) !== undefined
  }

  async create(input: NewCategory): Promise<Category> {
    const row = await this.db
      .insertInto('categories')
      .values({ name: input.name, icon: input.icon })
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(duplicateNameMessage)
    return toCategory(row)
  }

  async update(id: number, patch: CategoryPatch): Promise<CategorySummary> {
    if (patch.name === undefined && patch.icon === undefined) {
      const category = await this.findSummary(id)
      if (!category) throw new NotFoundError('category', id)
      return category
    }
    // The changed row and its item totals in one statement: the totals come from the items,
    // which the UPDATE in the WITH leaves alone, the category's columns from its RETURNING.
    const row = await this.db
      .with('updated', (db) => db.updateTable('categories').set({ name: patch.name, icon: patch.icon }).where('id', '=', id).returningAll())
      .selectFrom('updated as categories')
      .leftJoin('items as i', 'i.category_id', 'categories.id')
      .selectAll('categories')
      .select(itemTotals)
      .groupBy(['categories.id', 'categories.name', 'categories.icon', 'categories.created_at'])
      .executeTakeFirst()
      .catch(duplicateNameMessage)
    if (!row) throw new NotFoundError('category', id)
    return toSummary(row)
  }

  async delete(id: number): Promise<void> {
    const result = await this.db.deleteFrom('categories').where('id', '=', id).executeTakeFirst()
    if (result.numDeletedRows === 0n) throw new NotFoundError('category', id)
  }
}

const duplicateNameMessage = onConstraint({
  categories_name_key: () => new ConflictError('a category with this name already exists', 'categories_name_key'),
})

function toSummary(row: CategoryRow & { item_count: number; total_weight_grams: number; total_price_cents: number }): CategorySummary {
  return {
    ...toCategory(row),
    itemCount: row.item_count,
    totalWeightGrams: row.total_weight_grams,
    totalPriceCents: row.total_price_cents,
  }
}

function toCategory(row: CategoryRow): Category {
  return { id: row.id, name: row.name, icon: row.icon, createdAt: toTimestamp(row.created_at) }
}
