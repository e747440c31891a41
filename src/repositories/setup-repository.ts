import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import { prepared } from '../db/prepared'
import type { Database } from '../db/schema'
import type { Setups } from '../db/types'
import type { Classification, Setup, SetupDetail, SetupItemEntry, SetupSummary } from '../domain/setup'
import { toTimestamp } from '../domain/timestamp'
import { NotFoundError, ValidationError } from '../errors'
import { itemWeight, toItemWithCategory, totalPrice, totalWeight, weightTotal } from './item-repository'
import { decodeCursor, type Page, type PageRequest, toPage } from './paging'
import { assertTransaction } from './transaction'

export interface SetupRepository {
  /** Every setup with its totals, by name (case-insensitive), then id. */
  list(): Promise<SetupSummary[]>
  /** One page of `list` (see PageRequest). Throws ValidationError (path `query.cursor`) for a bad cursor. */
  listPage(page: PageRequest): Promise<Page<SetupSummary>>
  /** The setup with its items and totals, or undefined when there is no such setup. */
  findDetail(id: number): Promise<SetupDetail | undefined>
  create(input: { name: string }): Promise<Setup>
  /** Throws NotFoundError when the setup does not exist. */
  rename(id: number, name: string): Promise<Setup>
  /** One statement; its setup_items go with it (cascade). Throws NotFoundError when the setup does not exist. */
  delete(id: number): Promise<void>
  /**
   * Makes `entries` the setup's whole item list; a failure leaves the old list. Throws
   * NotFoundError for a missing setup, ValidationError (path `items.<index>.itemId`) for each
   * item that does not exist, TransactionRequiredError outside a transaction.
   */
  replaceItems(setupId: number, entries: SetupItemEntry[]): Promise<void>
  /**
   * Moves updatedAt of every setup that lists the item: its list is about to change (the item is
   * being deleted). Locks those setups in id order, so concurrent calls never deadlock.
   */
  touchContaining(itemId: number): Promise<void>
  /** Throws NotFoundError when the setup does not exist or the item is not in it; TransactionRequiredError outside a transaction. */
  setClassification(setupId: number, itemId: number, classification: Classification): Promise<void>
}

const weightSum = (classification?: Classification): RawBuilder<number> =>
  classification ? weightTotal(sql`sum(${itemWeight}) filter (where si.classification = ${classification})`) : totalWeight

/** A setup with its items and totals: one statement, so they come from the same snapshot. */
const setupDetail = prepared((db: Kysely<Database>, id: number) => {
  const lines = () =>
    db
      .selectFrom('setup_items as si')
      .innerJoin('items as i', 'i.id', 'si.item_id')
      .innerJoin('categories as c', 'c.id', 'i.category_id')
      .where('si.setup_id', '=', id)
  return db
    .selectFrom('setups')
    .where('id', '=', id)
    .selectAll()
    .select(() => [
      jsonArrayFrom(
        lines()
          .selectAll('i')
          .select(['c.name as category_name', 'si.classification'])
          .orderBy((eb) => eb.fn('lower', ['c.name']))
          .orderBy('c.name')
          .orderBy((eb) => eb.fn('lower', ['i.name']))
          .orderBy('i.name')
          .orderBy('i.id'),
      ).as('items'),
      jsonObjectFrom(
        lines().select([
          weightSum('base').as('baseWeightGrams'),
          weightSum('worn').as('wornWeightGrams'),
          weightSum('consumable').as('consumableWeightGrams'),
          weightSum().as('totalWeightGrams'),
          totalPrice.as('totalPriceCents'),
        ]),
      ).as('totals'),
      jsonArrayFrom(
        lines()
          .groupBy(['c.id', 'c.name'])
          .select((eb) => [
            'c.id as categoryId',
            'c.name as categoryName',
            weightSum().as('weightGrams'),
            totalPrice.as('priceCents'),
            eb.fn.countAll<number>().as('itemCount'),
          ])
          .orderBy((eb) => eb.fn('lower', ['c.name']))
          .orderBy('c.name')
          .orderBy('c.id'),
      ).as('byCategory'),
    ])
})

export class KyselySetupRepository implements SetupRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<SetupSummary[]> {
    const rows = await this.listQuery().execute()
    return rows.map(toSummary)
  }

  async listPage(page: PageRequest): Promise<Page<SetupSummary>> {
    let query = this.listQuery()
    if (page.cursor) {
      const [name, id] = decodeCursor(page.cursor, ['string', 'id'])
      query = query.where(sql<boolean>`(lower(s.name), s.name, s.id) > (lower(${name}), ${name}, ${id})`)
    }
    const rows = await query.limit(page.limit + 1).execute()
    return toPage(rows, page.limit, toSummary, (row) => [row.name, row.id])
  }

  /** Setups with their totals in list order: name (case-insensitive), name, id. */
  private listQuery() {
    return this.db
      .selectFrom('setups as s')
      .leftJoin('setup_items as si', 'si.setup_id', 's.id')
      .leftJoin('items as i', 'i.id', 'si.item_id')
      .groupBy('s.id')
      .selectAll('s')
      .select((eb) => [eb.fn.count<number>('si.id').as('item_count'), weightSum().as('total_weight_grams'), totalPrice.as('total_price_cents')])
      .orderBy((eb) => eb.fn('lower', ['s.name']))
      .orderBy('s.name')
      .orderBy('s.id')
  }

  async findDetail(id: number): Promise<SetupDetail | undefined> {
    const [row] = await setupDetail(this.db, id)
    if (!row) return undefined
    return {
      ...toSetup(row),
      items: row.items.map((i) => ({ ...toItemWithCategory(i), classification: i.classification })),
      // An aggregate without GROUP BY always yields its one row.
      totals: row.totals!,
      byCategory: row.byCategory,
    }
  }

  async create(input: { name: string }): Promise<Setup> {
    const row = await this.db.insertInto('setups').values({ name: input.name }).returningAll().executeTakeFirstOrThrow()
    return toSetup(row)
  }

  async rename(id: number, name: string): Promise<Setup> {
    const row = await this.db.updateTable('setups').set({ name, updated_at: sql`now()` }).where('id', '=', id).returningAll().executeTakeFirst()
    if (!row) throw new NotFoundError('setup', id)
    return toSetup(row)
  }

  async delete(id: number): Promise<void> {
    const { numDeletedRows } = await this.db.deleteFrom('setups').where('id', '=', id).executeTakeFirst()
    if (numDeletedRows === 0n) throw new NotFoundError('setup', id)
  }

  async replaceItems(setupId: number, entries: SetupItemEntry[]): Promise<void> {
    await this.touch(setupId, 'SetupRepository.replaceItems')
    if (entries.length > 0) {
      // FOR KEY SHARE (what a foreign key check takes) keeps the found items from being
      // deleted before the insert below.
      const found = await this.db
        .selectFrom('items')
        .select('id')
        .where(
          'id',
          'in',
          entries.map((e) => e.itemId),
        )
        .forKeyShare()
        .execute()
      const known = new Set(found.map((r) => r.id))
      const problems = entries.flatMap((e, index) =>
        known.has(e.itemId) ? [] : [{ path: `items.${index}.itemId`, message: `item ${e.itemId} does not exist` }],
      )
      if (problems.length > 0) throw new ValidationError('the list names items that do not exist', problems)
    }
    await this.db.deleteFrom('setup_items').where('setup_id', '=', setupId).execute()
    if (entries.length > 0) {
      await this.db
        .insertInto('setup_items')
        .values(entries.map((e) => ({ setup_id: setupId, item_id: e.itemId, classification: e.classification })))
        .execute()
    }
  }

  async setClassification(setupId: number, itemId: number, classification: Classification): Promise<void> {
    await this.touch(setupId, 'SetupRepository.setClassification')
    const { numUpdatedRows } = await this.db
      .updateTable('setup_items')
      .set({ classification })
      .where('setup_id', '=', setupId)
      .where('item_id', '=', itemId)
      .executeTakeFirst()
    if (numUpdatedRows === 0n) throw new NotFoundError(`item ${itemId} in setup`, setupId)
  }

  async touchContaining(itemId: number): Promise<void> {
    // Locked in id order first: an UPDATE alone locks rows in the order it finds them, which
    // every update of a row changes, so two deletes of items in the same setups deadlocked.
    await this.db
      .with('locked', (db) =>
        db
          .selectFrom('setups')
          .select('id')
          .where('id', 'in', (eb) => eb.selectFrom('setup_items').select('setup_id').where('item_id', '=', itemId))
          .orderBy('id')
          .forNoKeyUpdate(),
      )
      .updateTable('setups')
      .set({ updated_at: sql`now()` })
      .from('locked')
      .whereRef('setups.id', '=', 'locked.id')
      .execute()
  }

  /** Marks the setup changed (its row stays locked until the transaction ends); NotFoundError if missing. */
  private async touch(id: number, method: string): Promise<void> {
    assertTransaction(this.db, method)
    const { numUpdatedRows } = await this.db.updateTable('setups').set({ updated_at: sql`now()` }).where('id', '=', id).executeTakeFirst()
    if (numUpdatedRows === 0n) throw new NotFoundError('setup', id)
  }
}

function toSetup(row: Selectable<Setups>): Setup {
  return { id: row.id, name: row.name, createdAt: toTimestamp(row.created_at), updatedAt: toTimestamp(row.updated_at) }
}

function toSummary(row: Selectable<Setups> & { item_count: number; total_weight_grams: number; total_price_cents: number }): SetupSummary {
  return { ...toSetup(row), itemCount: row.item_count, totalWeightGrams: row.total_weight_grams, totalPriceCents: row.total_price_cents }
}
