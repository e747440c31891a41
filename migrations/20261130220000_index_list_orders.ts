import { type Kysely, sql } from 'kysely'

/**
 * Indexes in the order each list is sorted (and paged by keyset), so a page after a cursor is
 * an index range scan, not a scan and sort of the whole table.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('items_list_order_idx').on('items').expression(sql`lower(name), name, id`).execute()
  await db.schema.createIndex('categories_list_order_idx').on('categories').expression(sql`lower(name), name, id`).execute()
  await db.schema.createIndex('setups_list_order_idx').on('setups').expression(sql`lower(name), name, id`).execute()
  await db.schema.createIndex('threads_list_order_idx').on('threads').columns(['created_at', 'id']).execute()
  await db.schema.createIndex('api_keys_list_order_idx').on('api_keys').columns(['user_id', 'created_at', 'id']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['items_list_order_idx', 'categories_list_order_idx', 'setups_list_order_idx', 'threads_list_order_idx', 'api_keys_list_order_idx']) {
    await db.schema.dropIndex(name).execute()
  }
}
