import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely'
import { jsonArrayFrom, jsonObjectFrom } from 'kysely/helpers/postgres'
import type { DB, Setups } from '../db/types'
import { NotFoundError, ValidationError } from '../errors'
import { type ItemWithCategory, itemWeight, toItemWithCategory, totalPrice, totalWeight } from './item-repository'

export const CLASSIFICATIONS = ['base', 'worn', 'consumable'] as const
export type Classification = (typeof CLASSIFICATIONS)[number]

export interface Setup {
  id: number
  name: string
  createdAt: Date
  updatedAt: Date
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

export interface SetupRepository {
  /** Every setup with its totals, by name (case-insensitive), then id. */
  list(): Promise<SetupSummary[]>
  /** The setup with its items and totals, or undefined when there is no such setup. */
  findDetail(id: number): Promise<SetupDetail | undefined>
  create(input: { name: string }): Promise<Setup>
  /** Throws NotFoundError when the setup does not exist. */
  rename(id: number, name: string): Promise<Setup>
  /** Its setup_items go with it. Throws NotFoundError when the setup does not exist. */
  delete(id: number): Promise<void>
  /**
   * Makes `entries` the setup's whole item list. Several statements: run it in a unit of work
   * so a failure leaves the old list. Throws NotFoundError for a missing setup and
   * ValidationError (path `items.<index>.itemId`) for each item that does not exist.
   */
  replaceItems(setupId: number, entries: SetupItemEntry[]): Promise<void>
  /** Throws NotFoundError when the setup does not exist or the item is not in it. */
  setClassification(setupId: number, itemId: number, classification: Classification): Promise<void>
}

const weightSum = (classification?: Classification): RawBuilder<number> =>
  classification ? sql<number>`coalesce(sum(${itemWeight}) filter (where si.classification = ${classification}), 0)` : totalWeight

export class KyselySetupRepository implements SetupRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async list(): Promise<SetupSummary[]> {
    const rows = await this.db
      .selectFrom('setups as s')
      .leftJoin('setup_items as si', 'si.setup_id', 's.id')
      .leftJoin('items as i', 'i.id', 'si.item_id')
      .groupBy('s.id')
      .selectAll('s')
      .select((eb) => [
        eb.fn.count<number>('si.id').as('item_count'),
        weightSum().as('total_weight_grams'),
        totalPrice.as('total_price_cents'),
      ])
      .orderBy((eb) => eb.fn('lower', ['s.name']))
      .orderBy('s.name')
      .orderBy('s.id')
      .execute()
    return rows.map((r) => ({
      ...toSetup(r),
      itemCount: r.item_count,
      totalWeightGrams: r.total_weight_grams,
      totalPriceCents: r.total_price_cents,
    }))
  }

  async findDetail(id: number): Promise<SetupDetail | undefined> {
    // One statement, so the items and the totals come from the same snapshot.
    const lines = () =>
      this.db
        .selectFrom('setup_items as si')
        .innerJoin('items as i', 'i.id', 'si.item_id')
        .innerJoin('categories as c', 'c.id', 'i.category_id')
        .where('si.setup_id', '=', id)
    const row = await this.db
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
      .executeTakeFirst()
    if (!row) return undefined
    return {
      ...toSetup(row),
      // JSON carries timestamps as strings.
      items: row.items.map((i) => ({
        ...toItemWithCategory({ ...i, created_at: new Date(i.created_at), updated_at: new Date(i.updated_at) }),
        classification: i.classification as Classification,
      })),
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
    const row = await this.db
      .updateTable('setups')
      .set({ name, updated_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()
    if (!row) throw new NotFoundError('setup', id)
    return toSetup(row)
  }

  async delete(id: number): Promise<void> {
    const { numDeletedRows } = await this.db.deleteFrom('setups').where('id', '=', id).executeTakeFirst()
    if (numDeletedRows === 0n) throw new NotFoundError('setup', id)
  }

  async replaceItems(setupId: number, entries: SetupItemEntry[]): Promise<void> {
    await this.touch(setupId)
    if (entries.length > 0) {
      // FOR KEY SHARE (what a foreign key check takes) keeps the found items from being
      // deleted before the insert below.
      const found = await this.db
        .selectFrom('items')
        .select('id')
        .where('id', 'in', entries.map((e) => e.itemId))
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
    await this.touch(setupId)
    const { numUpdatedRows } = await this.db
      .updateTable('setup_items')
      .set({ classification })
      .where('setup_id', '=', setupId)
      .where('item_id', '=', itemId)
      .executeTakeFirst()
    if (numUpdatedRows === 0n) throw new NotFoundError(`item ${itemId} in setup`, setupId)
  }

  /** Marks the setup changed (its row stays locked until the transaction ends); NotFoundError if missing. */
  private async touch(id: number): Promise<void> {
    const { numUpdatedRows } = await this.db.updateTable('setups').set({ updated_at: sql`now()` }).where('id', '=', id).executeTakeFirst()
    if (numUpdatedRows === 0n) throw new NotFoundError('setup', id)
  }
}

function toSetup(row: Selectable<Setups>): Setup {
  return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at }
}
